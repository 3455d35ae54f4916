"""The looping merge worker's wait after a batch that was not full (server.register.worker.gather_wait)."""

from __future__ import annotations

import datetime as dt

from server.register.worker import gather_wait

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def test_waits_until_the_oldest_entry_left_has_waited_the_gather_time():
    assert gather_wait(NOW - dt.timedelta(seconds=0.2), NOW, 0.5) == 0.3
    assert gather_wait(NOW, NOW, 0.5) == 0.5


def test_a_backlog_older_than_the_gather_time_is_claimed_at_once():
    assert gather_wait(NOW - dt.timedelta(seconds=0.5), NOW, 0.5) == 0.0
    assert gather_wait(NOW - dt.timedelta(minutes=3), NOW, 0.5) == 0.0


def test_an_empty_queue_is_left_to_the_poll_and_a_clock_ahead_waits_no_longer_than_the_gather_time():
    assert gather_wait(None, NOW, 0.5) == 0.0
    assert gather_wait(NOW + dt.timedelta(seconds=30), NOW, 0.5) == 0.5
