"""`taizhang backup` and `taizhang restore` on both backends, run as commands beside the live server: a register
with an attachment and decisions survives a round trip exactly, a rebuild of the restored register gives the same
register, and damaged or unsuitable archives and non-empty databases are refused with nothing changed. Archives are
encrypted to the configured key (age): without the key, with another key, or changed, they are refused."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import tarfile
import threading
import uuid
from pathlib import Path

import pyrage
import pytest
from alembic.script import ScriptDirectory
from pyrage import x25519
from sqlalchemy import select

from server import create_app
from server.database import commit
from server.extensions import db
from server.lookup_cache import lookup_cache
from server.register import queries as register_queries
from server.register.decisions import merge_duplicates, set_tier
from server.register.models import RegisterDecision
from server.schedules.operations import current_schedule
from server.users.queries import principal_by_username
from tests.collect import visit_xml
from tests.conftest import (
    FIXTURES,
    ROOT,
    command_env,
    fresh_postgres_database,
    merge_all,
    stored_attachments,
    stored_submissions,
    taizhang,
)
from tests.register_visits import Member, household_visit

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
PHOTO = bytes(range(256)) * 40 + b"\xff\xd8 a photo"
HEAD = ScriptDirectory(str(ROOT / "server" / "migrations")).get_current_head()   # the newest schema revision
HOUSEHOLD_1, HOUSEHOLD_2 = "22222222-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"


# ---- the backup key, as an operator makes it -----------------------------------------------------------------

@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    """A secret key made by `taizhang backup-key`, as docs/backup.md tells the operator."""
    path = tmp_path_factory.mktemp("keys") / "backup.key"
    made = taizhang(dict(os.environ), "backup-key", str(path))
    assert made.returncode == 0, made.stderr
    public = str(identity_of(path).to_public())
    assert made.stdout == f"{path}: new backup key; public key {public}\n"
    assert path.stat().st_mode & 0o777 == 0o600
    lines = path.read_text("utf-8").splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["# created", "# public key"]
    assert lines[1] == f"# public key: {public}" and lines[2].startswith("AGE-SECRET-KEY-1") and len(lines) == 3
    refused = taizhang(dict(os.environ), "backup-key", str(path))
    assert (refused.returncode, refused.stderr) == (1, f"Error: {path} exists already: a key is never overwritten\n")
    return path


KEY_FILE: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _configured_key(key_file):
    KEY_FILE["path"] = key_file


def keyed_env(app, **changes) -> dict:
    """A command's environment beside the app, with the backup key configured (as /etc/taizhang.env has it)."""
    return command_env(app, **{"TAIZHANG_BACKUP_KEY_FILE": str(KEY_FILE["path"]), **changes})


def identity_of(path: Path) -> x25519.Identity:
    return x25519.Identity.from_str(path.read_text("utf-8").splitlines()[-1])


def decrypted_copy(archive: Path, out: Path) -> Path:
    """The archive opened without taizhang, as `age -d -i KEYFILE` does: a plain tar file."""
    pyrage.decrypt_file(str(archive), str(out), [identity_of(KEY_FILE["path"])])
    return out


# ---- building a register as Collect and the cadres do ---------------------------------------------------------

@pytest.fixture
def town(server, create_collector, publish, tmp_path):
    """Two households of 东村 sent from two groups' phones, one person merged into a duplicate by the cadre,
    a tier set, and a photo sent with a second form as Collect sends it (multipart, through HTTP)."""
    publish(ROOT / "xlsforms" / "household_visit.xlsx", media=list((ROOT / "xlsforms" / "fixtures").glob("*.csv")))
    photo_form = tmp_path / "site_photo.xml"
    photo_form.write_text((FIXTURES / "forms" / "household_visit_placeholder.xml").read_text("utf-8").replace(
        '<data id="household_visit"', '<data id="site_photo"'), "utf-8")
    publish(photo_form)
    phones = {group: server.client(token=create_collector(group).token)
              for group in ("青山镇/东村/第一组", "青山镇/东村/第二组")}
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre")

    first, second = Member("王秀英", "female", "1975-05-06"), Member("王秀瑛", "female", "1975-05-06")
    head = Member("张伟", "male", "1970-01-02")
    send(phones["青山镇/东村/第一组"], household_visit(household=HOUSEHOLD_1, new=("001", "东村一组1号"),
                                                 start="2026-11-01T09:00:00.000+08:00", members=[first, head]))
    send(phones["青山镇/东村/第二组"], household_visit(household=HOUSEHOLD_2, new=("009", "东村二组9号"),
                                                 start="2026-11-02T09:00:00.000+08:00", members=[second]))
    response = phones["青山镇/东村/第一组"].submit(visit_xml(form_id="site_photo", photo="door.jpg"),
                                               {"door.jpg": PHOTO})
    assert response.status_code == 201
    merge_all(NOW)
    cadre = principal_by_username("dongcun_cadre")
    merge_duplicates(cadre, first.uuid, second.uuid, now=NOW)
    set_tier(cadre, head.uuid, "key", tiers=current_schedule().tier_names, now=NOW)
    commit()
    return {"server": server, "phones": phones, "head": head, "kept": first}


def send(phone, xml: bytes) -> None:
    assert phone.submit(xml).status_code == 201


def state(blob_dir: Path) -> dict:
    """Everything a restore must bring back: the register, the raw submissions, the attachments' rows and bytes,
    and the decisions."""
    snapshot = register_queries.register_snapshot()
    decisions = [dict(row) for row in db.session.execute(
        select(RegisterDecision.__table__).order_by(RegisterDecision.id)).mappings()]
    db.session.rollback()
    attachments = stored_attachments()
    return {"register": snapshot, "submissions": stored_submissions(), "attachments": attachments,
            "decisions": decisions,
            "files": {a["sha256"]: (blob_dir / a["sha256"][:2] / a["sha256"][2:4] / a["sha256"]).read_bytes()
                      for a in attachments}}


def without_decision_uuids(found: dict) -> dict:
    return {**found, "decisions": [{**row, "uuid": None} for row in found["decisions"]]}


# ---- the commands, as an operator runs them -------------------------------------------------------------------

def release_connections() -> None:
    """What stopping the server does: no session or pooled connection of this process stays open."""
    db.session.remove()
    db.engine.dispose()
    lookup_cache().clear()


def restore_here(server, archive: Path, *args: str) -> subprocess.CompletedProcess:
    release_connections()
    result = taizhang(keyed_env(server.app), "restore", str(archive), *args)
    release_connections()
    return result


def back_up(env: dict, out: Path) -> None:
    result = taizhang(env, "backup", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{out}: ")
    assert result.stdout.endswith(f" bytes, encrypted to {identity_of(KEY_FILE['path']).to_public()}\n")
    assert out.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert result.stderr == ""


def back_up_to(env: dict, out: Path) -> Path:
    back_up(env, out)
    return out


def new_target(server, tmp_path: Path, name: str):
    """A database that does not exist yet (SQLite) or is empty without tables (PostgreSQL), and an empty
    attachment store: the machine after a disk was lost."""
    url = (fresh_postgres_database(f"_{name}") if server.backend == "postgresql"
           else f"sqlite:///{tmp_path / name / 'restored.sqlite3'}")
    return create_app({"INSTANCE_DIR": tmp_path / name, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret",
                       "TAIZHANG_BLOB_DIR": tmp_path / f"{name}-blobs", "TESTING": True})


def close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def other_target(server, tmp_path):
    app = new_target(server, tmp_path, "restored")
    yield app
    close(app)


# ---- round trips ------------------------------------------------------------------------------------------------

def test_a_changed_database_is_restored_exactly_only_with_force_and_a_rebuild_gives_the_same_register(town,
                                                                                                     tmp_path):
    server = town["server"]
    blob_dir = Path(server.app.config["TAIZHANG_BLOB_DIR"])
    before = state(blob_dir)
    assert len(before["submissions"]) == 3 and [a["name"] for a in before["attachments"]] == ["door.jpg"]
    assert [(d["kind"], d["target"]) for d in before["decisions"]] == [("merge_people", town["kept"].uuid),
                                                                       ("set_tier", "key")]
    archive = tmp_path / "taizhang.tar.gz"
    back_up(keyed_env(server.app), archive)

    # The register moves on after the backup: a new household and a tier taken away.
    send(town["phones"]["青山镇/东村/第一组"], household_visit(
        household=str(uuid.uuid4()), new=("002", "东村一组2号"), start="2026-11-03T09:00:00.000+08:00",
        members=[Member("李强", "male", "1988-08-08")]))
    merge_all(NOW)
    set_tier(principal_by_username("dongcun_cadre"), town["head"].uuid, "", tiers=current_schedule().tier_names,
             now=NOW)
    commit()
    changed = state(blob_dir)
    assert changed != before

    refused = restore_here(server, archive)
    assert refused.returncode == 1
    assert refused.stderr == ("Error: 数据库中已有数据，没有做任何改动；确定要用备份替换这些数据时请加 --force。 / The database "
                              "already holds data; nothing was changed. Add --force to replace it with the backup.\n")
    assert state(blob_dir) == changed

    restored = restore_here(server, archive, "--force")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("restored taizhang.tar.gz (made ")
    assert restored.stdout.endswith("3 submission(s), 2 person record(s), 0 file(s) added to the attachment "
                                    "store\n")
    assert state(blob_dir) == before

    rebuilt = taizhang(keyed_env(server.app), "rebuild")
    assert rebuilt.stdout == "register rebuilt from 2 submission(s)\n", rebuilt.stderr
    release_connections()
    assert state(blob_dir) == before


def test_a_lost_database_and_attachment_store_are_restored_into_new_ones(town, other_target, tmp_path):
    server = town["server"]
    before = state(Path(server.app.config["TAIZHANG_BLOB_DIR"]))
    archive = tmp_path / "taizhang.tar"
    back_up(keyed_env(server.app), archive)
    # The photo and the form lists, and whatever earlier tests left in the session's store: all of it.
    stored = len(list(Path(server.app.config["TAIZHANG_BLOB_DIR"]).glob("*/*/*")))

    env = keyed_env(other_target)
    restored = taizhang(env, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.endswith(f" {stored} file(s) added to the attachment store\n")
    with other_target.app_context():
        assert state(Path(other_target.config["TAIZHANG_BLOB_DIR"])) == before
        assert sorted(p.name for p in Path(other_target.config["TAIZHANG_BLOB_DIR"]).glob("*/*/*")) == sorted(
            p.name for p in Path(server.app.config["TAIZHANG_BLOB_DIR"]).glob("*/*/*"))
        db.session.remove()
    assert taizhang(env, "rebuild").returncode == 0
    with other_target.app_context():
        assert state(Path(other_target.config["TAIZHANG_BLOB_DIR"]))["register"] == before["register"]
        db.session.remove()


def test_an_older_backup_is_migrated_after_the_restore(town, other_target, tmp_path):
    server = town["server"]
    before = state(Path(server.app.config["TAIZHANG_BLOB_DIR"]))
    archive, older = tmp_path / "now.tar", tmp_path / "older.tar"
    back_up(keyed_env(server.app), archive)
    env = keyed_env(other_target)
    assert taizhang(env, "restore", str(archive)).returncode == 0
    downgraded = taizhang(env, "db", "downgrade", "0005")
    assert downgraded.returncode == 0, downgraded.stderr
    back_up(env, older)
    with tarfile.open(decrypted_copy(older, tmp_path / "older-plain.tar")) as tar:
        assert json.load(tar.extractfile("manifest.json"))["alembic_revision"] == "0005"

    fresh = new_target(server, tmp_path, "older")
    try:
        restored = taizhang(keyed_env(fresh), "restore", str(older))
        assert restored.returncode == 0, restored.stderr
        assert restored.stdout.endswith(f"the backup's schema revision 0005 was migrated to {HEAD}\n")
        with fresh.app_context():  # decisions made before 0008 get new uuids when it is applied again
            assert without_decision_uuids(state(Path(fresh.config["TAIZHANG_BLOB_DIR"]))) == \
                without_decision_uuids(before)
            db.session.remove()
    finally:
        close(fresh)

    over_newer = restore_here(server, older, "--force")
    if server.backend == "postgresql":  # pg_restore --clean would leave report_run beside the older tables
        assert (over_newer.returncode, over_newer.stderr) == (
            1, "Error: 这个备份不能恢复到这个数据库，没有做任何改动。 / This backup cannot be restored into this database; "
               "nothing was changed. (the database has tables the backup lacks (archived_report, auth_throttle, "
               "collector_form_download, digest_nonce_use, month_signoff, month_signoff_step, person_copy, "
               "purged_record, recheck, recheck_finding, recheck_household, recheck_sample, report_run, "
               "schedule_summary, service_item, service_notice, service_notice_step, staff_session): its "
               "schema is newer; "
               "restore into a new, empty database (createdb) instead)\n")
    else:  # the whole database file is replaced
        assert over_newer.stdout.endswith(f"the backup's schema revision 0005 was migrated to {HEAD}\n")
    after = state(Path(server.app.config["TAIZHANG_BLOB_DIR"]))
    assert (after if server.backend == "postgresql" else without_decision_uuids(after)) == (
        before if server.backend == "postgresql" else without_decision_uuids(before))


def test_a_backup_taken_while_collectors_send_holds_every_file_its_database_names(town, other_target, tmp_path):
    server = town["server"]
    phone = town["phones"]["青山镇/东村/第二组"]
    stop = threading.Event()
    statuses = []

    def keep_sending():
        number = 0
        while not stop.is_set():
            number += 1
            photo = PHOTO + str(number).encode()
            statuses.append(phone.submit(visit_xml(form_id="site_photo", photo=f"p{number}.jpg"),
                                         {f"p{number}.jpg": photo}).status_code)

    sender = threading.Thread(target=keep_sending)
    sender.start()
    try:
        while len(statuses) < 3:
            stop.wait(0.05)
        archive = tmp_path / "live.tar"
        back_up(keyed_env(server.app), archive)
        sent_during = len(statuses)
    finally:
        stop.set()
        sender.join(timeout=60)
    assert set(statuses) == {201} and sent_during >= 3

    assert taizhang(keyed_env(other_target), "restore", str(archive)).returncode == 0
    everything = stored_submissions()
    with other_target.app_context():
        restored = state(Path(other_target.config["TAIZHANG_BLOB_DIR"]))
        db.session.remove()
    # A consistent snapshot: the first submissions in arrival order, each photo with its bytes.
    assert restored["submissions"] == everything[:len(restored["submissions"])]
    assert len(restored["submissions"]) >= 3 + 3
    assert all(restored["files"][a["sha256"]].startswith(PHOTO) for a in restored["attachments"])


# ---- refusals ------------------------------------------------------------------------------------------------

def _members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive) as tar:
        return [(member, tar.extractfile(member).read()) for member in tar.getmembers()]


def _write(archive: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    with tarfile.open(archive, "w") as tar:
        for member, data in members:
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


def _edited_manifest(archive: Path, out: Path, **changes) -> Path:
    """A copy of the archive with its manifest changed (a changed engine renames the database member to match)."""
    members = _members(archive)
    manifest = json.loads(members[0][1])
    if "engine" in changes:
        old, new = DATABASE_MEMBERS[manifest["engine"]], DATABASE_MEMBERS[changes["engine"]]
        manifest["members"][new] = manifest["members"].pop(old)
        for member, _ in members:
            member.name = new if member.name == old else member.name
    manifest.update(changes)
    _write(out, [(members[0][0], json.dumps(manifest).encode())] + members[1:])
    return out


def test_damaged_or_unsuitable_archives_are_refused_and_nothing_changes(town, tmp_path):
    server = town["server"]
    blob_dir = Path(server.app.config["TAIZHANG_BLOB_DIR"])
    archive = decrypted_copy(back_up_to(keyed_env(server.app), tmp_path / "good.tar.age"), tmp_path / "good.tar")
    send(town["phones"]["青山镇/东村/第一组"], household_visit(
        household=str(uuid.uuid4()), new=("003", "东村一组3号"), start="2026-11-04T09:00:00.000+08:00",
        members=[Member("赵敏", "female", "1990-09-09")]))
    merge_all(NOW)
    changed = state(blob_dir)
    files = sorted(blob_dir.rglob("*"))
    database_member = DATABASE_MEMBERS[server.backend]

    flipped = tmp_path / "flipped.tar"
    raw = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        offset = tar.getmember(database_member).offset_data + 200
    raw[offset] ^= 0xFF
    flipped.write_bytes(bytes(raw))
    cut = tmp_path / "cut.tar"
    with tarfile.open(archive) as tar:
        middle = tar.getmember(database_member).offset_data + tar.getmember(database_member).size // 2
    cut.write_bytes(archive.read_bytes()[:middle])
    not_an_archive = tmp_path / "notes.tar"
    not_an_archive.write_text("这不是备份\n", "utf-8")
    other_engine = "sqlite" if server.backend == "postgresql" else "postgresql"

    damaged = "Error: 备份文件已损坏或不是 taizhang 的备份，没有做任何改动。 / The file is damaged or not a taizhang backup; nothing was changed."
    unsuitable = "Error: 这个备份不能恢复到这个数据库，没有做任何改动。 / This backup cannot be restored into this database; nothing was changed."
    cases = {
        flipped: f"{damaged} ({database_member} does not match its checksum in manifest.json)\n",
        cut: f"{damaged} (cut.tar is damaged or cut short: unexpected end of data)\n",
        not_an_archive: f"{damaged} (notes.tar is not a tar archive)\n",
        _edited_manifest(archive, tmp_path / "engine.tar", engine=other_engine):
            f"{unsuitable} (the backup holds a {other_engine} database, the configured database is "
            f"{server.backend})\n",
        _edited_manifest(archive, tmp_path / "future.tar", alembic_revision="0099"):
            f"{unsuitable} (the backup's schema revision '0099' is unknown here: it was made by a newer taizhang; "
            f"upgrade taizhang first)\n",
        _edited_manifest(archive, tmp_path / "format.tar", format_version=2):
            f"{unsuitable} (the archive has format version 2, made by a newer taizhang; this one reads version 1)\n",
    }
    for bad, message in cases.items():
        result = restore_here(server, bad, "--force")
        assert (result.returncode, result.stderr) == (1, message), bad.name
        assert state(blob_dir) == changed
        assert sorted(blob_dir.rglob("*")) == files
        assert not list(Path(server.app.instance_path).glob(".taizhang-restore-*"))


def test_an_archive_is_encrypted_and_refused_without_its_key_or_when_changed(town, tmp_path):
    server = town["server"]
    blob_dir = Path(server.app.config["TAIZHANG_BLOB_DIR"])
    archive = back_up_to(keyed_env(server.app), tmp_path / "taizhang.tar.age")   # not compressed: nothing hides
    raw = archive.read_bytes()
    database_member = DATABASE_MEMBERS[server.backend]
    plain = decrypted_copy(archive, tmp_path / "plain.tar")
    with tarfile.open(plain) as tar:  # opened without taizhang: the usual archive inside
        assert tar.getnames()[:2] == ["manifest.json", database_member]
        assert tar.extractfile(database_member).read().startswith(
            b"SQLite format 3\x00" if server.backend == "sqlite" else b"PGDMP")
    assert PHOTO in plain.read_bytes()
    if server.backend == "sqlite":  # pg_dump's custom format compresses the tables' data itself
        assert "王秀英".encode() in plain.read_bytes()
    for secret in (b"SQLite format 3", b"PGDMP", b"manifest.json", "王秀英".encode(), "张伟".encode(), PHOTO[:64]):
        assert secret not in raw
    before = state(blob_dir)
    files = sorted(blob_dir.rglob("*"))

    other_key = tmp_path / "other.key"
    other_key.write_text(f"{x25519.Identity.generate()}\n", "utf-8")
    public_only = tmp_path / "public.key"
    public = str(identity_of(KEY_FILE["path"]).to_public())
    public_only.write_text(f"{public}\n", "utf-8")
    flipped, cut = tmp_path / "flipped.tar.age", tmp_path / "cut.tar.age"
    changed = bytearray(raw)
    changed[len(raw) // 2] ^= 0x01
    flipped.write_bytes(bytes(changed))
    cut.write_bytes(raw[:-100])
    no_key = command_env(server.app)
    no_key.pop("TAIZHANG_BACKUP_KEY_FILE", None)
    no_key.pop("TAIZHANG_BACKUP_KEY", None)
    wrong = ("Error: 这个备份是用另一把密钥加密的，用配置的密钥解不开，没有做任何改动；请配置做备份时用的密钥。 / This backup was "
             "encrypted with another key and the configured key cannot open it; nothing was changed. Configure the key "
             "the backup was made with.\n")
    tampered = ("Error: 加密的备份已损坏、被改动或不完整，没有做任何改动；请用另一份备份。 / The encrypted backup is damaged, "
                "altered or cut short; nothing was changed. Use another copy.")
    needed = ("Error: 这个备份是加密的：请用 TAIZHANG_BACKUP_KEY_FILE 配置做备份时用的私钥后再恢复；没有做任何改动。 / This "
              "backup is encrypted: configure the secret key it was made with (TAIZHANG_BACKUP_KEY_FILE) and restore "
              "again; nothing was changed.")
    cases = [
        (keyed_env(server.app, TAIZHANG_BACKUP_KEY_FILE=str(other_key)), archive, wrong),
        (keyed_env(server.app), flipped, f"{tampered} (flipped.tar.age: decryption error)\n"),
        (keyed_env(server.app), cut, f"{tampered} (cut.tar.age: decryption error)\n"),
        (no_key, archive, f"{needed} (taizhang.tar.age is encrypted and no backup key is configured)\n"),
        (keyed_env(server.app, TAIZHANG_BACKUP_KEY_FILE=str(public_only)), archive,
         f"{needed} (the configured key is the public key {public}, which only encrypts)\n"),
    ]
    for env, bad, message in cases:
        release_connections()
        result = taizhang(env, "restore", str(bad), "--force")
        release_connections()
        assert (result.returncode, result.stderr) == (1, message), bad.name
        assert state(blob_dir) == before
        assert sorted(blob_dir.rglob("*")) == files
        assert not list(Path(server.app.instance_path).glob(".taizhang-restore-*"))

    restored = restore_here(server, archive, "--force")
    assert restored.returncode == 0, restored.stderr
    assert state(blob_dir) == before


def test_a_backup_without_a_key_is_refused_unless_asked_for_unencrypted(town, tmp_path):
    server = town["server"]
    env = command_env(server.app)
    env.pop("TAIZHANG_BACKUP_KEY_FILE", None)
    env.pop("TAIZHANG_BACKUP_KEY", None)
    out = tmp_path / "plain.tar.gz"
    refused = taizhang(env, "backup", str(out))
    assert (refused.returncode, refused.stderr) == (
        1, "Error: 没有配置备份密钥，备份未做：请设置 TAIZHANG_BACKUP_KEY_FILE（用 taizhang backup-key 生成），确需不加密的备份时请加 "
           "--unencrypted。 / No backup key is configured, so no backup was made: set TAIZHANG_BACKUP_KEY_FILE (make "
           "one with taizhang backup-key), or add --unencrypted if an unencrypted backup is really wanted.\n")
    assert not out.exists() and not list(tmp_path.glob(".taizhang-backup-*"))

    bad_key = tmp_path / "bad.key"
    bad_key.write_text("# a note\nAGE-SECRET-KEY-1NOTAKEY\n", "utf-8")
    invalid = taizhang({**env, "TAIZHANG_BACKUP_KEY_FILE": str(bad_key)}, "backup", str(out))
    assert invalid.returncode == 1 and invalid.stderr.startswith(
        "Error: 配置的备份密钥读不出或不是 age 密钥，没有做任何改动（原因见后）。 / The configured backup key cannot be read or "
        f"is not an age key; nothing was changed (see why). (TAIZHANG_BACKUP_KEY_FILE {bad_key} is not a valid age "
        "key: "), invalid.stderr
    both = taizhang({**env, "TAIZHANG_BACKUP_KEY_FILE": str(KEY_FILE["path"]), "TAIZHANG_BACKUP_KEY": "age1x"},
                    "backup", str(out))
    assert both.returncode == 1 and both.stderr.endswith(
        "(set TAIZHANG_BACKUP_KEY or TAIZHANG_BACKUP_KEY_FILE, not both)\n")
    assert not out.exists()

    plain = taizhang(env, "backup", "--unencrypted", str(out))
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.endswith(" bytes, NOT encrypted\n")
    assert plain.stderr == ("WARNING: the archive is not encrypted and holds the personal data of the whole register; "
                            "keep it on an encrypted disk, or configure TAIZHANG_BACKUP_KEY_FILE (docs/backup.md)\n")
    with tarfile.open(out) as tar:
        assert tar.getnames()[0] == "manifest.json"

    # Only the public key on the server that backs up: the archive opens with the secret key kept elsewhere.
    public = str(identity_of(KEY_FILE["path"]).to_public())
    sealed = tmp_path / "sealed.tar.gz.age"
    made = taizhang({**env, "TAIZHANG_BACKUP_KEY": public}, "backup", "--unencrypted", str(sealed))
    assert made.returncode == 0, made.stderr
    assert made.stdout.endswith(f" bytes, encrypted to {public}\n")
    assert made.stderr == "--unencrypted was ignored: a backup key is configured, so the archive is encrypted\n"
    with tarfile.open(decrypted_copy(sealed, tmp_path / "sealed.tar.gz")) as tar:  # gzip inside the age file
        assert tar.getnames()[0] == "manifest.json"
    restored = restore_here(server, sealed, "--force")
    assert restored.returncode == 0, restored.stderr


def test_a_missing_or_too_old_pg_dump_is_named_with_what_to_install(town, tmp_path):
    if town["server"].backend != "postgresql":
        pytest.skip("pg_dump is for PostgreSQL")
    missing = "Error: 缺少数据库工具 pg_dump / pg_restore，或其版本比数据库服务器旧；请安装与服务器相同版本的 postgresql-client。 / " \
              "pg_dump / pg_restore is missing or older than the database server; install the postgresql-client of " \
              "the server's version."
    out = tmp_path / "none.tar"
    result = taizhang(keyed_env(town["server"].app, TAIZHANG_PG_BIN_DIR=str(tmp_path / "nowhere")), "backup",
                      str(out))
    assert (result.returncode, result.stderr) == (
        1, f"{missing} (pg_dump not found in {tmp_path / 'nowhere'}; on Debian: apt install postgresql-client)\n")

    old = tmp_path / "old-client"
    old.mkdir()
    (old / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (old / "pg_dump").chmod(0o755)
    result = taizhang(keyed_env(town["server"].app, TAIZHANG_PG_BIN_DIR=str(old)), "backup", str(out))
    server_major = db.session.connection().dialect.server_version_info[0]
    db.session.rollback()
    assert (result.returncode, result.stderr) == (
        1, f"{missing} (pg_dump {server_major} or newer is needed ({old / 'pg_dump'} is version 9); install "
           f"postgresql-client-{server_major} or set TAIZHANG_PG_BIN_DIR)\n")
    assert not out.exists() and not list(tmp_path.glob(".taizhang-backup-*"))
