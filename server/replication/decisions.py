"""Decisions replicated from a town server: recorded here at their place among the submissions, and replayed.

A town's decision is recorded with the town's uuid at its place after the visit it followed there, and replayed
like one made here; so is its undoing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.audit import queries as audit
from server.register import queries
from server.register.decisions import RECORD_AREAS, authorise, undo
from server.register.replays import replay_decision
from sync.decisions import DECISION_KINDS, decision_kind
from sync.errors import DecisionNotPossible, DecisionNotYetMergeable

__all__ = ["REPLICATED_KINDS", "ReplicatedDecision", "record_replicated_decision"]

REPLICATED_KINDS = tuple(name for name, kind in DECISION_KINDS.items() if kind.replicable)
"""The kinds of decision a town server sends."""


@dataclass(frozen=True, slots=True)
class ReplicatedDecision:
    """A decision made on a town server, its ids already those of this server: a group's id as `target` of a move,
    a submission's id as `subject` of a rejection, `after_submission_id` the id here of the submission it followed."""

    uuid: str
    kind: str
    subject: str
    target: str
    field: str | None
    after_submission_id: int
    decided_at: dt.datetime
    undone_at: dt.datetime | None
    automatic: bool = False   # the town's automatic merge: only its undoing is replicated
    note: str | None = None   # why the town's person decided it


def record_replicated_decision(principal, decision: ReplicatedDecision) -> bool:
    """Record a town's decision (checked by its kind: server.replication.operations.receive_decision) at its place
    among the submissions and replay the records it concerns; one recorded already is only undone, when the town
    has undone it. Whether anything changed."""
    kind = decision_kind(decision.kind)
    if not kind.replicable or decision.automatic and not kind.automatic:
        raise DecisionNotPossible(f"decision kind {decision.kind!r}")
    if not queries.merged_through(decision.after_submission_id):
        raise DecisionNotYetMergeable(decision.uuid)
    paths = kind.area_paths(decision.subject, decision.target, decision.field, RECORD_AREAS)
    if None in paths:  # a record not in this register yet: its visits are still on their way
        raise DecisionNotYetMergeable(decision.uuid)
    authorise(principal, kind, *paths)
    if decision.automatic:
        return _undo_own_automatic_merge(principal, decision, paths)
    recorded = queries.decision_by_uuid(decision.uuid)
    changed = recorded is None
    if recorded is None:
        recorded = queries.add_decision(
            uuid=decision.uuid, kind=kind.name, subject_uuid=decision.subject, target=decision.target,
            field=decision.field, area_path=paths[0], decided_by=principal.id, decided_at=decision.decided_at,
            after_submission_id=decision.after_submission_id, note=decision.note)
        audit.record(principal.id, f"replication.{kind.name}", area_path=paths[0], subject=decision.subject)
        replay_decision(recorded)
    if decision.undone_at is not None and recorded.undone_at is None:
        undo(principal.id, recorded, now=decision.undone_at, action=f"replication.undo_{kind.name}",
             area_path=paths[0], subject=decision.subject)
        changed = True
    return changed


def _undo_own_automatic_merge(principal, decision: ReplicatedDecision, paths: list[str]) -> bool:
    """The town undid its automatic merge of a pair. This server made its own by the same rule from the same visits:
    it is undone too (and, as any undone automatic merge, not made again)."""
    own = queries.automatic_merge(decision.subject, decision.target) if decision.undone_at else None
    if own is None:
        return False
    undo(principal.id, own, now=decision.undone_at, action="replication.undo_automatic_merge",
         area_path=paths[0], subject=decision.subject)
    return True
