"""Replaying stored submissions and decisions into the database: after a change to the past, and the rebuild.

Anything that changes the past is a replay: an edit (or an original arriving after its edit), a decision (a
duplicate merge, a household moved to another group) and the undo of a decision. A replay forgets the records
concerned (closed over the decisions that join them) and applies, in memory, every submission naming them and
every decision in force about them, in one order (sync.replay), then writes the result. `rebuild_register` is the
same replay over everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from server.database import on_postgresql
from server.register import queries, rebuild_queries, summaries
from server.register.matching import index_people, index_villages
from server.register.rebuild import rebuild_in_parallel
from server.register.stores import MemoryStore
from sync.decisions import DECISION_KINDS, DecisionRow, ReplayScope
from sync.replay import raw_uuids, register_visit, replay

__all__ = ["rebuild_register", "replay_decision", "replay_records", "replay_visit", "chain_uuids"]


def rebuild_register(workers: int = 1) -> int:
    """Forget the derived register and replay every effective submission and every decision in force; returns how
    many visits were merged. `workers` > 1: in that many processes (server.register.rebuild, the same result). The
    derived tables' indexes and constraints are dropped during the bulk load and re-created after (PostgreSQL).
    The register is held whole meanwhile (no merge worker or decision runs beside it)."""
    queries.lock_register()
    if workers > 1:
        return rebuild_in_parallel(workers).applied
    rebuild_queries.bulk_transaction()
    rebuild_queries.empty_derived()
    definitions = rebuild_queries.derived_definitions() if on_postgresql() else []
    rebuild_queries.drop_definitions(definitions)
    store = MemoryStore()
    applied = replay(store, queries.submission_rows(), queries.decisions_in_force(), only=None,
                     purged=queries.purged_records())
    store.flush()
    index_villages(None)
    rebuild_queries.create_definitions(definitions)
    return applied


def replay_decision(decision: DecisionRow) -> None:
    """Replay what a decision (just recorded or just undone) concerns, and re-index the people replayed. A decision
    about a service item changes no record (the item is read with it): its person's schedule summary is worked out
    again (a referral's result closes it)."""
    kind = DECISION_KINDS[decision.kind]
    if kind.subject_is_service_item:
        summaries.refresh_item(decision.subject_uuid)
        return
    scope: ReplayScope = kind.replay_scope(decision.subject_uuid, decision.target)
    if scope.visit is not None:
        replay_visit(scope.visit)
        return
    if not scope.records:
        return   # it changes no record
    replayed = replay_records(set(scope.records))
    index_people({uuid for kind, uuid in replayed if kind == "person"})


def replay_visit(submission_id: int) -> None:
    """Replay the records a visit names, with the visit itself (taken out of the register, or put back)."""
    (row,) = queries.submission_rows({submission_id})
    visit = register_visit(row.xml)
    replayed = replay_records(raw_uuids(visit) if visit else set(), extra_submissions={submission_id})
    index_people({uuid for kind, uuid in replayed if kind == "person"})


def chain_uuids(submission_id: int) -> set[str]:
    """The register uuids named by every version of a submission's edit chain."""
    uuids: set[str] = set()
    for row in queries.submission_rows(queries.chain_ids({submission_id})):
        chained = register_visit(row.xml)
        if chained is not None:
            uuids |= raw_uuids(chained)
    return uuids


def _closure(uuids: set[str]) -> tuple[set[str], list]:
    """The records to replay with these (joined to them by decisions, in force or undone) and those decisions."""
    records, decisions, pending = set(uuids), {}, set(uuids)
    while pending:
        found = set()
        for decision in queries.decisions_naming(pending):
            decisions[decision.id] = decision
            kind = DECISION_KINDS[decision.kind]
            found |= kind.joined(decision.subject_uuid, decision.target)
            if kind.joins_members:
                found |= queries.people_ever_in({decision.subject_uuid, decision.target})
        pending = found - records
        records |= found
    return records, [decision for decision in decisions.values() if decision.undone_at is None]


def _with_every_replay(decisions: list) -> list:
    """The decisions of a partial replay and those every replay applies (DecisionKind.always_replayed)."""
    ids = {decision.id for decision in decisions}
    return decisions + [decision for decision in queries.always_replayed() if decision.id not in ids]


def replay_records(uuids: set[str], *, extra_submissions: Iterable[int] = ()) -> set[tuple[str, str]]:
    """Forget these records (and those joined to them by decisions) and replay them; returns (kind, uuid) of the
    records now in the register among them."""
    records, decisions = _closure(uuids)
    verdicts: dict[int, str | None] = {}   # whether each visit was refused before this replay
    submission_ids = set(extra_submissions)
    purged = queries.purged_records()
    forgotten: set[str] = set()            # the records of the visits forgotten (their schedule summaries change)
    while True:
        queries.lock_register(records)   # no merge worker writes these records while their past is replayed
        submission_ids |= queries.submissions_touching(records)   # (those forgotten already are in the set)
        verdicts.update(queries.refusals(submission_ids - set(verdicts)))
        forgotten |= summaries.visited_records(submission_ids)
        queries.forget_records(records, submission_ids)
        store = MemoryStore(only=records)
        replay(store, queries.submission_rows(submission_ids), _with_every_replay(
            decisions + queries.rejections_of(submission_ids)), only=records, purged=purged)
        # A visit the replay judged otherwise than before (a decision moved a record into or out of its group)
        # changes records outside this replay too: replay again with every record it names.
        judged = {row["submission_id"]: row["refusal"] for row in store.visits}
        changed = {row["record_uuid"] for row in store.submission_records
                   if row["submission_id"] in verdicts and judged.get(row["submission_id"], 0) != verdicts[
                       row["submission_id"]]} - records
        if not changed:
            break
        more_records, more_decisions = _closure(changed)
        records |= more_records
        decisions += [decision for decision in more_decisions if decision not in decisions]
    store.summarised |= forgotten
    store.flush()
    return store.record_keys()
