"""server.database.read_ahead: a streamed result's batches come in order, each next one fetched while the caller
works on the one before (on PostgreSQL in a thread), and a failure fetching one reaches the caller."""

from __future__ import annotations

import threading

import pytest

from server.database import read_ahead


def test_every_batch_comes_in_order_and_the_next_is_fetched_ahead(server):
    fetched_by = []

    def batches():
        for number in range(4):
            fetched_by.append(threading.current_thread() is threading.main_thread())
            yield [number, number]

    reading = read_ahead(batches())
    assert next(reading) == [0, 0]
    # On PostgreSQL the next batch is already being fetched, in another thread; on SQLite it is not.
    threaded = server.backend == "postgresql"
    assert list(reading) == [[1, 1], [2, 2], [3, 3]]
    assert fetched_by == [not threaded] * 4


def test_a_failure_fetching_a_batch_reaches_the_caller(server):
    def batches():
        yield [1]
        raise RuntimeError("the connection was lost")

    reading = read_ahead(batches())
    assert next(reading) == [1]
    with pytest.raises(RuntimeError, match="the connection was lost"):
        next(reading)
