"""Visits carrying a service record, written as JavaRosa writes the forms' current versions: a follow-up giving
services, supplies and a referral; a household visit noting needs (supplies, support) with its closing answers."""

from __future__ import annotations

import uuid

from tests.register_visits import FORM_VERSIONS
from tests.submission_xml import JAVAROSA_DECLARATION, E, optional, submission_bytes, submission_root

__all__ = ["followup_with_services", "visit_with_needs"]


def followup_with_services(*, person: str, household: str, start: str, services: str, referral_to: str | None = None,
                           referral_reason: str | None = None, supplies: list[tuple[str, str]] = (),
                           next_date: str | None = None, notes: str | None = None,
                           instance_id: str | None = None, person_name: str = "王秀英") -> bytes:
    """A completed follow-up (the form's current version) giving services, supplies and maybe a referral to the
    health centre named `referral_to`."""
    root = submission_root(
        "followup", FORM_VERSIONS["followup"],
        E.start(start), E.end(start), E.today(start[:10]), E.deviceid("collect:test"), E.username(),
        E.who(E.due_item("due-item-1")), E.person_uuid(person), E.household_uuid(household),
        E.person_base_version("1"), E.person_name(person_name), E.due_type("tier_key"), E.due_since("2026-11-01"),
        E.visit(E.person_note(), E.followup_type("tier_key"), E.outcome("completed")),
        E.services(E.services_given(services), E.referral("yes" if referral_to else "no"),
                   *([E.referral_purpose("health_centre"), E.referral_place(referral_to)] if referral_to else []),
                   optional("referral_reason", referral_reason)),
        *(E.supplies(E.supply(E.item(item), E.quantity(quantity))) for item, quantity in supplies),
        E.closing(optional("next_date", next_date), optional("notes", notes)),
        E.meta(E.instanceID(instance_id or f"uuid:{uuid.uuid4()}")))
    return submission_bytes(root, JAVAROSA_DECLARATION)


def visit_with_needs(*, household: str, start: str, needs: str, supplies: list[tuple[str, str, str]] = (),
                     support_details: str | None = None, location: str | None = None, next_visit: str | None = None,
                     notes: str | None = None, outcome: str = "completed") -> bytes:
    """A household visit of a listed household noting service needs (supplies, support), with its closing answers."""
    completed = outcome == "completed"
    root = submission_root(
        "household_visit", FORM_VERSIONS["household_visit"],
        E.start(start), E.end(start), E.today(start[:10]), E.deviceid("collect:test"), E.username(),
        E.household_choice(E.mode("existing"), E.household(household)), E.household_uuid(household),
        E.household_base_version("1"),
        E.outcome_group(E.outcome(outcome), *([E.consent("yes")] if completed else [])),
        E.recording("yes" if completed else "no"), E.changes(E.changed_people(), E.household_events()),
        E.service_needs(needs if completed else ""),
        *(E.supplies(E.supply(E.item(item), E.quantity(quantity), E.given(given))) for item, quantity, given in supplies),
        *([E.support(E.support_details(support_details))] if support_details else []),
        E.closing(optional("next_visit", next_visit), optional("location", location), optional("notes", notes)),
        E.meta(E.instanceID(f"uuid:{uuid.uuid4()}")))
    return submission_bytes(root, JAVAROSA_DECLARATION)
