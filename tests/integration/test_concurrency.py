"""Concurrent identical retries (Collect resending while the first POST is still running): all 201, one copy."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.collect import visit_xml
from tests.conftest import stored_submissions

THREADS = 8
SUBMISSIONS = 200


def post_from_every_thread(server, token: str, submissions: list[bytes]) -> Counter:
    """Each of THREADS clients posts every submission, all starting together; the statuses they got."""
    barrier = threading.Barrier(THREADS)

    def worker(_index: int) -> Counter:
        client = server.client(token=token)
        barrier.wait()
        return Counter(client.post_submission(xml).status_code for xml in submissions)

    with ThreadPoolExecutor(THREADS) as pool:
        return sum(pool.map(worker, range(THREADS)), Counter())


def test_eight_threads_posting_the_same_200_submissions_store_exactly_200(server, collector):
    submissions = [visit_xml(f"uuid:{uuid.uuid4()}") for _ in range(SUBMISSIONS)]
    statuses = post_from_every_thread(server, collector.token, submissions)
    assert statuses == Counter({201: THREADS * SUBMISSIONS})
    rows = stored_submissions()
    assert len(rows) == SUBMISSIONS
    assert len({row["instance_id"] for row in rows}) == SUBMISSIONS


def test_concurrent_identical_edits_are_all_201_and_stored_once(server, collector):
    """An edit carries both an instanceID and a deprecatedID, each unique: retries of it must still be 201."""
    originals = [f"uuid:{uuid.uuid4()}" for _ in range(50)]
    client = server.client(token=collector.token)
    for instance_id in originals:
        assert client.post_submission(visit_xml(instance_id)).status_code == 201
    edits = [visit_xml(f"uuid:{uuid.uuid4()}", head_name="王秀兰", deprecated_id=original) for original in originals]
    statuses = post_from_every_thread(server, collector.token, edits)
    assert statuses == Counter({201: THREADS * len(edits)})
    rows = stored_submissions()
    assert len(rows) == 2 * len(originals)
    assert sorted(row["deprecated_id"] for row in rows if row["deprecated_id"]) == sorted(originals)
