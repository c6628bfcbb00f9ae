"""The whole-pool neighbour graph: building it and storing it (with the k-NN state) on disk."""
