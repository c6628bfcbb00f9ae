"""Label quality: the review queue of likely label errors, the stopping signal, and a second opinion (compare)."""
