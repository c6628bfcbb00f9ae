import pytest

from aldesk.core import synthetic


def clustered(n: int, d: int, n_clusters: int, seed: int = 0, spread: float = 0.6):
    """L2-normalised vectors around random centres, with the centre index as the true class."""
    return synthetic.clustered(n, d, n_clusters, spread=spread, seed=seed)


@pytest.fixture
def blobs():
    return clustered(600, 16, 4)
