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


def test_eight_threads_posting_the_same_200_submissions_store_exactly_200(server, collector):
    submissions = [visit_xml(f"uuid:{uuid.uuid4()}") for _ in range(SUBMISSIONS)]
    barrier = threading.Barrier(THREADS)

    def worker(_index: int) -> Counter:
        client = server.client(token=collector.token)
        barrier.wait()
        return Counter(client.post_submission(xml).status_code for xml in submissions)

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = sum(pool.map(worker, range(THREADS)), Counter())
    assert statuses == Counter({201: THREADS * SUBMISSIONS})
    rows = stored_submissions()
    assert len(rows) == SUBMISSIONS
    assert len({row["instance_id"] for row in rows}) == SUBMISSIONS
