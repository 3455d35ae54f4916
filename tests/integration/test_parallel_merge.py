"""Merge workers side by side (server.register.worker): batches of one village, several processes against one
PostgreSQL database; every submission merged exactly once and the register what a rebuild makes of it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from bench.county import plan_county, submissions
from server.corrections.operations import set_person_tier
from server.database import commit
from server.extensions import db
from server.register import queries as register_queries
from server.register import worker
from server.register.models import Person, RegisterConflict, RegisterDecision, Visit
from server.register.replays import rebuild_register
from server.submissions.models import MergeQueueEntry, Submission
from server.users.queries import principal_by_username
from tests.conftest import ROOT, command_env, taizhang
from tests.integration.test_moves_collect import (  # noqa: F401 - the fixture
    DONG,
    LI,
    SUN,
    XI,
    ZHAO,
    area_id,
    county,
    day,
    person,
    refusals,
    register,
    submission_id,
)
from tests.register_visits import Member, household_visit

XLSFORMS = ROOT / "xlsforms"


def send_town(server, create_collector, publish, *, villages: int, households: int, months: int, seed: int,
              kinds: set[str] = frozenset()) -> int:
    """A synthetic town of several villages (registrations, visits, follow-ups, edits, a duplicate, retries) sent
    as Collect sends it and left queued; how many distinct submissions were stored."""
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    plan = plan_county(seed, towns=1, villages_per_town=villages, groups_per_village=1,
                       households_per_group=households)
    phones = {group.collector: server.client(token=create_collector(group.area, username=group.collector).token,
                                             device_id=f"collect:{group.collector}")
              for group in plan.groups}
    stream = list(submissions(plan, months=months))
    for item in stream:
        assert phones[item.collector].submit(item.xml).status_code == 201
    assert kinds <= {item.kind for item in stream}
    return len({item.instance_id for item in stream})


def visit_rows() -> list[tuple]:
    rows = sorted((row.submission_id, row.refusal or "") for row in db.session.scalars(select(Visit)))
    db.session.rollback()
    return rows


def assert_merged_once_and_rebuilt_alike(stored: int) -> None:
    assert db.session.scalar(select(func.count()).select_from(MergeQueueEntry)) == 0
    assert db.session.scalar(select(func.count()).select_from(Submission)) == stored
    live_visits = visit_rows()
    assert not [sid for sid, times in Counter(sid for sid, _ in live_visits).items() if times > 1]
    live = register_queries.register_snapshot()
    db.session.rollback()
    rebuild_register()
    commit()
    assert visit_rows() == live_visits
    assert register_queries.register_snapshot() == live
    db.session.rollback()


def test_three_workers_merge_a_town_of_three_villages_as_a_rebuild_does(server, create_collector, publish):
    stored = send_town(server, create_collector, publish, villages=3, households=15, months=8, seed=10,
                       kinds={"edit", "duplicate", "followup"})
    db.session.remove()
    # Three processes, batches of 5 (on SQLite the command runs one worker).
    result = taizhang(command_env(server.app), "register", "merge", "--workers", "3", "--batch", "5")
    assert result.returncode == 0, result.stderr
    assert "failed" not in result.stdout + result.stderr
    assert result.stdout == f"merged {stored} submission(s)\n"
    assert_merged_once_and_rebuilt_alike(stored)


def test_a_bad_submission_in_a_batch_does_not_hold_up_the_others(server, create_collector, publish, monkeypatch):
    stored = send_town(server, create_collector, publish, villages=2, households=6, months=3, seed=3)
    bad = db.session.scalars(select(Submission.id).order_by(Submission.id)).all()[7]
    db.session.rollback()
    apply_visit = worker.apply_visit

    def failing(store, submission_id, *args, **kwargs):
        if submission_id == bad:
            raise RuntimeError("injected")
        return apply_visit(store, submission_id, *args, **kwargs)

    monkeypatch.setattr(worker, "apply_visit", failing)
    warnings = []
    tally = worker.run_merge_worker(loop=False, interval=0.01, warn=warnings.append, batch_size=10)
    assert (tally.merged, tally.failed) == (stored - 1, register_queries.MAX_ATTEMPTS)
    entry = db.session.scalars(select(MergeQueueEntry)).one()
    assert (entry.submission_id, entry.attempts, entry.last_error) == (bad, register_queries.MAX_ATTEMPTS,
                                                                      "RuntimeError")
    assert warnings == [f"merge of submission {bad} failed (RuntimeError); will retry"] * 3
    db.session.rollback()
    # Once it can be merged (a person reset its attempts), the register is what a rebuild makes of it.
    monkeypatch.setattr(worker, "apply_visit", apply_visit)
    db.session.execute(MergeQueueEntry.__table__.update().values(attempts=0))
    commit()
    assert worker.run_merge_worker(loop=False, interval=0.01, warn=warnings.append).merged == 1
    assert_merged_once_and_rebuilt_alike(stored)


@pytest.mark.parametrize("batch", [1, 50])
def test_batches_in_one_process_give_the_register_a_rebuild_gives(server, create_collector, publish, batch):
    stored = send_town(server, create_collector, publish, villages=3, households=15, months=8, seed=5,
                       kinds={"edit", "followup"})
    tally = worker.run_merge_worker(loop=False, interval=0.01, warn=print, batch_size=batch)
    assert (tally.merged, tally.failed) == (stored, 0)
    assert_merged_once_and_rebuilt_alike(stored)


# ---- a looping worker lets the queue gather once it has caught up ----------------------------------------------


class _Stopped(Exception):
    """Ends a looping merge worker in a test: raised by its first wait."""


def _loop_until_first_wait(monkeypatch, *, queued_at: dt.datetime, now: dt.datetime) -> tuple[list[float], int]:
    """Every queue entry queued at `queued_at`; a looping worker (batches of up to 1,000: each village's one batch
    is not full) run with its clock at `now` until it first waits: how long it meant to wait, and how many entries
    were left."""
    db.session.execute(update(MergeQueueEntry).values(enqueued_at=queued_at))
    commit()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        raise _Stopped

    monkeypatch.setattr(worker, "time", SimpleNamespace(sleep=sleep))
    monkeypatch.setattr(worker, "clock", SimpleNamespace(now=lambda: now))
    with pytest.raises(_Stopped):
        worker.run_merge_worker(loop=True, interval=1.0, warn=print, batch_size=1000)
    left = db.session.scalar(select(func.count()).select_from(MergeQueueEntry))
    db.session.rollback()
    return waits, left


def test_a_looping_worker_lets_the_queue_gather_after_a_batch_that_was_not_full(server, create_collector, publish,
                                                                                   monkeypatch):
    stored = send_town(server, create_collector, publish, villages=3, households=4, months=1, seed=7)
    queued = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.timezone.utc)
    # The first village merged in one batch; the others' entries have waited 0.1 s: the worker waits the rest of
    # GATHER_WAIT (a poll of an empty queue would have waited the whole interval, 1 s).
    waits, left = _loop_until_first_wait(monkeypatch, queued_at=queued, now=queued + dt.timedelta(seconds=0.1))
    assert waits == [pytest.approx(worker.GATHER_WAIT - 0.1)]
    assert 0 < left < stored
    # Entries that have waited longer are merged at once, the two other villages one after the other; then the
    # queue is empty and it waits GATHER_WAIT.
    waits, left = _loop_until_first_wait(monkeypatch, queued_at=queued, now=queued + dt.timedelta(seconds=10))
    assert (waits, left) == ([worker.GATHER_WAIT], 0)
    assert_merged_once_and_rebuilt_alike(stored)


# ---- out of order across villages: a move, merged by village as parallel workers may ----------------------------

def test_an_arrival_merged_before_the_move_out_it_confirms_ends_as_a_rebuild_does(server, county):  # noqa: F811 - the fixture
    """西村's worker runs ahead: 孙丽's arrival (sent after 东村's move-out) is merged first and refused (nobody
    is expected); 东村's batch then merges the move-out as a replay of her record, which takes the arrival in, and
    东村's later visit naming her is refused (she lives in 西村). As a rebuild in arrival order has it."""
    dong, xi = county["dongcun1"], county["xicun1"]
    moved = "uuid:88888888-0000-4000-8000-00000000e001"
    arrived = "uuid:88888888-0000-4000-8000-00000000e002"
    later = "uuid:88888888-0000-4000-8000-00000000e003"
    assert dong.submit(household_visit(household=DONG, base_version=1, instance_id=moved,
                                       start=f"{day(-2)}T09:00:00.000+08:00", updates=[dict(
                                           person_uuid=SUN.uuid, base_version=1, change="moved_out",
                                           event_date=day(-2), destination="青山镇/西村", place="嫁到西村")])
                       ).status_code == 201
    assert xi.submit(household_visit(household=XI, base_version=1, instance_id=arrived,
                                     start=f"{day(-1)}T09:00:00.000+08:00", members=[Member(
                                         "", "", "", uuid=SUN.uuid, relationship="spouse", event_date=day(-1),
                                         origin="青山镇 东村", arriving_version=2)])).status_code == 201
    assert dong.submit(household_visit(household=DONG, base_version=1, instance_id=later,
                                       start=f"{day(0)}T09:00:00.000+08:00", updates=[dict(
                                           person_uuid=SUN.uuid, base_version=2, change="details_corrected",
                                           phone_now="13900001111")])).status_code == 201
    for village in ("青山镇/西村", "青山镇/东村"):   # 西村 first, holding the register as a worker would
        if server.backend == "postgresql":   # an arrival changes a record of another village: not while shared
            with pytest.raises(register_queries.NeedsWholeRegister):
                worker.merge_batch(register_queries.claim_batch(50, village_id=area_id(village)))
            db.session.rollback()
        worker.merge_batch(register_queries.claim_batch(50, village_id=area_id(village), exclusive=True))
        commit()
        if village == "青山镇/西村":
            assert refusals()[arrived] == "not_expected"
    assert db.session.scalars(select(MergeQueueEntry)).all() == []
    db.session.rollback()
    found = refusals()
    assert [found[instance] for instance in (moved, arrived, later)] == [None, None, "person_elsewhere"]
    assert person(SUN.uuid)[:3] == ("孙丽", XI, "here")
    live = register()
    rebuild_register()
    commit()
    assert register() == live
    assert refusals() == found


def test_a_visit_waiting_while_a_cadre_decides_about_its_person_is_merged_as_a_rebuild_does(county):  # noqa: F811 - the fixture
    """东村's visit correcting 赵刚's phone waits in the queue while 西村's later visit is merged and a cadre sets
    赵刚's tier (the decision is placed after 西村's visit, so after the waiting one): merged then, the visit is
    replayed under the decision, as a rebuild has it."""
    dong, xi = county["dongcun1"], county["xicun1"]
    waiting = "uuid:88888888-0000-4000-8000-00000000e011"
    assert dong.submit(household_visit(household=DONG, base_version=1, instance_id=waiting,
                                       start=f"{day(-1)}T09:00:00.000+08:00", updates=[dict(
                                           person_uuid=ZHAO.uuid, base_version=1, change="details_corrected",
                                           phone_now="13900002222")])).status_code == 201
    assert xi.submit(household_visit(household=XI, base_version=1, start=f"{day(-1)}T10:00:00.000+08:00",
                                     updates=[dict(person_uuid=LI.uuid, base_version=1, change="details_corrected",
                                                   phone_now="13900003333")])).status_code == 201
    worker.merge_batch(register_queries.claim_batch(50, village_id=area_id("青山镇/西村"), exclusive=True))
    commit()
    set_person_tier(principal_by_username("东村_cadre"), ZHAO.uuid, "key", note="见面核实")
    commit()
    decided = db.session.scalars(select(RegisterDecision).where(RegisterDecision.subject_uuid == ZHAO.uuid)).all()
    assert decided and decided[-1].after_submission_id > submission_id(waiting)
    db.session.rollback()
    # A replay of records all of 东村: the worker holding 东村 (and the register shared) may make it.
    worker.merge_batch(register_queries.claim_batch(50, village_id=area_id("青山镇/东村")))
    commit()
    found = db.session.scalars(select(Visit).where(Visit.submission_id == submission_id(waiting))).one()
    assert found.refusal is None
    db.session.rollback()
    live = register()
    rebuild_register()
    commit()
    assert register() == live


def test_visits_to_one_household_within_one_batch_merge_as_a_rebuild_does(server, create_collector, publish):
    """One batch holds a household's registration and every visit after it: each visit reads the records as the
    visits before it in the batch left them (versions, the conflicts they made, a move out), around the replay of
    an edit in the middle of the batch."""
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phone = server.client(token=create_collector().token)
    household = str(uuid.uuid4())
    head = Member("吴刚", "male", "1979-08-08", phone="13811112222")
    spouse = Member("吴芳", "female", "1981-02-02", relationship="spouse")
    first = f"uuid:{uuid.uuid4()}"

    def correct(number: str, day: int, base_version: int, **edit) -> bytes:
        return household_visit(household=household, base_version=1, start=f"2026-11-{day:02d}T09:00:00.000+08:00",
                               updates=[dict(person_uuid=head.uuid, base_version=base_version,
                                             change="details_corrected", phone_now=number)], **edit)
    sent = [household_visit(household=household, new=("008", "东村一组8号"), start="2026-11-01T09:00:00.000+08:00",
                            members=[head, spouse]),
            correct("13900000001", 2, 1, instance_id=first),
            correct("13900000002", 4, 1),    # the same version seen as the first: a conflict
            correct("13900000003", 3, 1),    # made before the one above, sent after it: loses, a second conflict
            household_visit(household=household, base_version=1, start="2026-11-05T09:00:00.000+08:00", updates=[
                dict(person_uuid=spouse.uuid, base_version=1, change="moved_out", event_date="2026-11-05",
                     place="白水镇")]),
            correct("13900000004", 6, 1, deprecated_id=first),   # an edit of the first: replayed in the batch
            correct("13900000005", 7, 4)]
    for xml in sent:
        assert phone.submit(xml).status_code == 201
    tally = worker.run_merge_worker(loop=False, interval=0.01, warn=print, batch_size=50)
    assert (tally.merged, tally.failed) == (len(sent), 0)
    assert db.session.get(Person, head.uuid).phone == "13900000005"
    assert db.session.get(Person, spouse.uuid).residence == "moved_away"
    assert db.session.scalar(select(func.count()).select_from(RegisterConflict)) > 0
    db.session.rollback()
    assert_merged_once_and_rebuilt_alike(len(sent))
