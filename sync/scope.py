"""Whether a visit stays inside its collector's group: every record it names is checked before it changes any.

A collector's submission may only create or change households and people of the collector's own group: a new
household is created in that group; an existing household, an existing person (by their household), a household a
person moves into, a household split from and a person a service was given to must all be of that group. A "new household" that names a household
already in the register is never merged onto it (a form that kept the picked household's uuid would overwrite
it). A person expected to arrive in the collector's village (moved out towards it, docs/moves.md) may be
confirmed into a household of the group; a move out must name a village or town of the register (or a place
outside, as text). The merge asks this before it applies a visit, live and in every replay, so a rebuild reaches the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sync.visits import Visit

__all__ = ["REFUSALS", "RegisterLookup", "refusal"]

REFUSALS: dict[str, tuple[str, str]] = {
    "no_group": ("上报这份访视的账号不属于任何小组，访视未并入台账。",
                 "The account that sent this visit belongs to no group; the visit was not merged."),
    "household_elsewhere": ("访视中的户不属于信息员所在的小组，访视未并入台账。",
                            "The visit names a household of another group; the visit was not merged."),
    "person_elsewhere": ("访视中的人员属于其他小组的户，访视未并入台账。",
                         "The visit names a person of another group; the visit was not merged."),
    "not_expected": ("访视确认了一位迁入人员，但此人并未预计迁入信息员所在的村（或已经确认迁入），访视未并入台账。",
                     "The visit confirms the arrival of a person who is not expected in the collector's village (or "
                     "whose arrival was confirmed already); the visit was not merged."),
    "destination_unknown": ("访视登记的迁出去向不是本县的村或镇，访视未并入台账，请核实后让信息员重新登记。",
                            "The visit records a move to a place that is not a village or town of the county; the "
                            "visit was not merged. Check it and have the collector record it again."),
    "new_household_exists": ("登记为“新户”的访视使用了台账中已有户的编号，为免覆盖该户，访视未并入台账，"
                             "请核实后让信息员重新登记。",
                             ("A visit recording a new household used the id of a household already in the "
                              "register; it was not merged, so that household is not overwritten. Check it and "
                              "have the collector record it again.")),
    "person_purged": ("访视中的人员已按保存期限清除（手机上的名单是旧的），访视未并入台账；请让信息员更新表单名单后重新访视。",
                      "The visit names a person purged from the register at the end of their retention period (the "
                      "phone's list is old); the visit was not merged. Have the collector update the lists and visit "
                      "again."),
}
"""Why the merge refuses a visit (code → Chinese, English), shown to the village cadre with the visit."""


@dataclass(frozen=True, slots=True)
class RegisterLookup:
    """How the register stands where the visit is applied (live, or at its place in a replay)."""

    resolve: Callable[[str], str]                    # a merged-away uuid → the record kept
    household_group: Callable[[str], str | None]     # a household's group id; None: not in the register
    person_household: Callable[[str], str | None]    # a person's household; None: not in the register
    # Whether a person has moved out towards the area holding this group (a village or town) and not arrived yet.
    expected_in: Callable[[str, str], bool] = lambda person_uuid, group: False
    # Whether a move's destination (an area's full name) is a village or town of this register.
    destination_known: Callable[[str], bool] = lambda full_name: False


def refusal(visit: Visit, group: str | None, register: RegisterLookup) -> str | None:
    """The reason (a key of REFUSALS) the visit may not be merged for a collector of `group`, or None."""
    if group is None:
        return "no_group"
    created = None
    household = visit.household
    if household is not None:
        uuid = register.resolve(household.household_uuid)
        found = register.household_group(uuid)
        if found is not None and household.fields:
            return "new_household_exists"
        if found is not None and found != group:
            return "household_elsewhere"
        created = uuid if found is None and household.fields else None
        split_from = household.fields.get("split_from")
        if split_from and register.household_group(register.resolve(split_from)) != group:
            return "household_elsewhere"

    def ours(household_uuid: str) -> bool:
        uuid = register.resolve(household_uuid)
        return uuid == created or register.household_group(uuid) == group

    arriving = set()
    for observation in visit.people:
        uuid = register.resolve(observation.person_uuid)
        home = register.person_household(uuid)
        if observation.arrival and home is None:
            return "not_expected"
        moved_to = observation.fields.get("household")
        if moved_to and not ours(moved_to):
            return "household_elsewhere"
        if observation.arrival and not ours(home):
            if not register.expected_in(uuid, group):
                return "not_expected"
            arriving.add(uuid)
        elif home is not None and not ours(home):
            return "person_elsewhere"
        destination = observation.event.destination if observation.event is not None else None
        if destination is not None and not register.destination_known(destination):
            return "destination_unknown"
    named_people = [anchor.person_uuid for anchor in visit.anchors] + [
        item.person_uuid for item in visit.services.items if item.person_uuid]
    for person_uuid in named_people:
        uuid = register.resolve(person_uuid)
        home = register.person_household(uuid)
        if home is not None and uuid not in arriving and not ours(home):
            return "person_elsewhere"
    return None
