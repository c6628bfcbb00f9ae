"""2-D maps of the embeddings (PCA, UMAP) and the selection geometry."""
