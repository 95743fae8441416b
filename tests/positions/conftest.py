import pytest

from dispatch.positions.batches import batcher


@pytest.fixture(autouse=True)
def empty_position_batcher():
    """The consoles' position batcher is one per process: what a test left pending (units of a
    test world already torn down) must not reach the next test's batch."""
    batcher.take()
    yield
    batcher.take()
