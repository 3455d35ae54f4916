"""Demo data for a first look: one town, two villages, three groups, a collector each, the forms in xlsforms/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from server.areas.operations import ensure_area
from server.database import commit
from server.forms.operations import PublishResult, publish_form
from server.storage import blob_store
from server.users import queries as user_queries
from server.users.operations import NewCredentials, add_user, rotate_token, set_password

__all__ = ["DEMO_GROUPS", "seed_demo", "xlsform_sources", "fixture_lists"]

XLSFORMS_DIR = Path(__file__).resolve().parent.parent / "xlsforms"

# (group path, collector user name, collector's name)
DEMO_GROUPS = [
    ("青山镇/东村/第一组", "dongcun1", "王秀英"),
    ("青山镇/东村/第二组", "dongcun2", "李桂兰"),
    ("青山镇/西村/第一组", "xicun1", "张丽"),
]


@dataclass
class DemoResult:
    forms: list[PublishResult] = field(default_factory=list)
    collectors: list[tuple[NewCredentials, str]] = field(default_factory=list)


def xlsform_sources() -> list[Path]:
    """The questionnaires shipped in xlsforms/, in name order."""
    return sorted(p for p in XLSFORMS_DIR.glob("*.xlsx") if not p.name.startswith("~$"))


def fixture_lists() -> list[Path]:
    return sorted((XLSFORMS_DIR / "fixtures").glob("*.csv"))


def seed_demo() -> DemoResult:
    """Idempotent: areas and forms are created once; demo collectors get fresh passwords and tokens each run."""
    realm = current_app.config["TAIZHANG_REALM"]
    result = DemoResult()
    for group_path, username, name in DEMO_GROUPS:
        ensure_area(group_path)
        if user_queries.by_username(username) is None:
            creds = add_user(username, "collector", group_path, realm=realm, display_name=name, with_token=True)
        else:
            password = set_password(username, None, realm=realm).password
            creds = NewCredentials(username, password, rotate_token(username).token)
        result.collectors.append((creds, group_path))
    for source in xlsform_sources():
        # Fixture phone lists until per-collector lists are generated (schedules issue).
        result.forms.append(publish_form(source, blob_store(), media=fixture_lists()))
    commit()
    return result
