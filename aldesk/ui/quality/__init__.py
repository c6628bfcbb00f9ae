"""The label-quality views: the review queue on keys, and compare with another project."""
