"""A small synthetic town (bench/county.py) sent to the live server as Collect sends it, then merged without errors."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bench.county import KINDS, plan_county, submissions
from server.database import commit
from server.extensions import db
from server.register.models import Household, Person
from server.register.worker import merge_next
from server.submissions.models import MergeQueueEntry, Submission
from sync.visits import read_visit
from tests.conftest import ROOT

XLSFORMS = ROOT / "xlsforms"


def test_a_synthetic_town_is_received_and_merged_into_the_register(server, create_collector, publish):
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    # Seed 10 is a town of two groups whose year has every planted kind (a typo, a duplicate, an edit, a retry).
    plan = plan_county(10, towns=1, villages_per_town=1, groups_per_village=2, households_per_group=20)
    phones = {group.collector: server.client(token=create_collector(group.area, username=group.collector).token,
                                             device_id=f"collect:{group.collector}")
              for group in plan.groups}

    answers = Counter()
    stream = list(submissions(plan, months=12))
    assert {item.kind for item in stream} == set(KINDS)
    for item in stream:
        response = phones[item.collector].submit(item.xml)
        assert response.status_code == 201, response.text
        answers[(item.kind == "retry", "Already on the server." in response.text)] += 1
    assert set(answers) <= {(False, False), (True, True)}
    distinct = len({item.instance_id for item in stream})
    assert db.session.scalar(select(func.count()).select_from(Submission)) == distinct
    db.session.rollback()

    merged = 0
    while merge_next() is not None:
        commit()
        merged += 1
    assert merged == distinct
    assert db.session.scalars(select(MergeQueueEntry)).all() == []
    assert db.session.scalar(select(func.count()).select_from(Household)) == plan.households
    created = sum(person.base_version is None for item in stream if item.kind not in ("edit", "retry")
                  for person in read_visit(item.xml).people)
    planted = sum(item.kind == "duplicate" for item in stream)
    # A planted duplicate sure enough to be merged automatically (same village) leaves one record.
    assert created - planted <= db.session.scalar(select(func.count()).select_from(Person)) <= created
    db.session.rollback()
