import numpy as np
import pytest


def clustered(n: int, d: int, n_clusters: int, seed: int = 0, spread: float = 0.6):
    """L2-normalised vectors around random centres, with the centre index as the true class."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, d))
    y = rng.integers(n_clusters, size=n)
    X = centres[y] + spread * rng.normal(size=(n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), y


@pytest.fixture
def blobs():
    return clustered(600, 16, 4)
