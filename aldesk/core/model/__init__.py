"""The classifier: an incremental k-NN over the embeddings."""
