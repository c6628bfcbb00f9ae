"""Labels in and out: exports in the formats trainers read, and imports of existing labels."""
