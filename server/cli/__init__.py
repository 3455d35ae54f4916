"""The `taizhang` command: database, areas, users, forms, demo data and the production server."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import DBAPIError

from server import clock, create_app
from server.database import commit, translate_db_error
from server.storage import blob_store
from sync.errors import TaizhangError

__all__ = ["main", "cli"]


class _Group(FlaskGroup):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TaizhangError as exc:
            raise click.ClickException(exc.message()) from exc
        except DBAPIError as exc:
            raise click.ClickException(translate_db_error(exc).message()) from exc


@click.group(cls=_Group, create_app=lambda: create_app(), add_version_option=False)
def cli():
    """taizhang (台账): village household register kept current from ODK Collect visits."""


# ---- areas -------------------------------------------------------------------------------------------------

@cli.group()
def area():
    """Towns, villages and villager groups."""


@area.command("add")
@click.argument("full_name")
@with_appcontext
def area_add(full_name: str):
    """Add an area (and its missing parents), e.g. 青山镇/东村/第一组."""
    from server.areas.operations import ensure_area

    created = ensure_area(full_name)
    commit()
    click.echo(f"{created.kind}: {created.full_name}")


@area.command("list")
@with_appcontext
def area_list():
    from server.areas.queries import all_areas

    for row in all_areas():
        click.echo(f"{'  ' * (row.path.count('/') - 2)}{row.kind:8} {row.full_name}")


# ---- users -------------------------------------------------------------------------------------------------

@cli.group()
def user():
    """Collectors, village cadres, town officers and county admins."""


def _print_credentials(creds) -> None:
    if creds.password:
        click.echo(f"  user name: {creds.username}\n  password:  {creds.password}")
    if creds.token:
        click.echo(f"  token URL: {_token_url(creds.token)}")


def _token_url(token: str) -> str:
    base = current_app.config["TAIZHANG_PUBLIC_URL"] or "http://127.0.0.1:8000"
    return f"{base.rstrip('/')}/key/{token}"


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["collector", "village_cadre", "town_officer", "county_admin"]),
              required=True)
@click.option("--area", "area_name", help="group (collector), village (cadre) or town (officer), e.g. 青山镇/东村")
@click.option("--name", "display_name", help="the person's name as shown to others")
@click.option("--password", help="omit to generate one")
@click.option("--token/--no-token", default=None, help="issue an app token URL (default: collectors only)")
@with_appcontext
def user_add(username, role, area_name, display_name, password, token):
    """Add a user; prints the password (and the token URL for collectors) once."""
    from server.users.operations import add_user

    creds = add_user(username, role, area_name, realm=current_app.config["TAIZHANG_REALM"],
                     display_name=display_name, password=password, with_token=token)
    commit()
    click.echo(f"added {role} {username}")
    _print_credentials(creds)


@user.command("password")
@click.argument("username")
@click.option("--password", help="omit to generate one")
@with_appcontext
def user_password(username, password):
    """Set a new password (web login and ODK Collect)."""
    from server.users.operations import set_password

    creds = set_password(username, password, realm=current_app.config["TAIZHANG_REALM"])
    commit()
    _print_credentials(creds)


@user.command("token")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="remove the token without issuing a new one")
@with_appcontext
def user_token(username, revoke):
    """Issue a new token URL for a user (the old one stops working)."""
    from server.users.operations import revoke_token, rotate_token

    if revoke:
        revoke_token(username)
        commit()
        click.echo(f"token of {username} revoked")
        return
    creds = rotate_token(username)
    commit()
    _print_credentials(creds)


@user.command("list")
@with_appcontext
def user_list():
    from server.users.queries import all_users

    for row, area_name in all_users():
        state = "" if row.active else " (inactive)"
        click.echo(f"{row.username:20} {row.role:14} {area_name or '(county)'}{state}")


# ---- forms -------------------------------------------------------------------------------------------------

@cli.group()
def form():
    """Publish and list forms."""


@form.command("publish")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--media", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a media file the form uses (repeatable)")
@click.option("--audience", default="collector",
              type=click.Choice(["collector", "village_cadre", "town_officer", "county_admin"]))
@click.option("--area", "area_name", help="only users inside this area get the form")
@with_appcontext
def form_publish(source, media, audience, area_name):
    """Compile (pyxform + ODK Validate) and publish an XLSForm or XForm as a new version."""
    from server.forms.operations import publish_form

    result = publish_form(source, blob_store(), media=list(media), audience=audience, area=area_name)
    commit()
    _print_publish(result)


def _print_publish(result) -> None:
    state = "published" if result.created else "already published (identical)"
    click.echo(f"{result.xml_form_id} version {result.version} ({result.title}): {state}")
    for name in result.media_attached:
        click.echo(f"  media: {name}")
    for name in result.media_ignored:
        click.echo(f"  note: {name} is not used by this form; not attached", err=True)
    for name in result.media_missing:
        click.echo(f"  WARNING: media file {name} is referenced but was not given (--media)", err=True)
    for warning in result.warnings:
        click.echo(f"  warning: {warning}", err=True)


@form.command("list")
@with_appcontext
def form_list():
    from server.forms.queries import all_forms

    for row, version, area_name in all_forms():
        click.echo(f"{row.xml_form_id:24} {version.version if version else '-':14} {row.state:6} "
                   f"{row.audience:12} {area_name or '(all)'}  {row.title}")


# ---- register ---------------------------------------------------------------------------------------------

@cli.group()
def register():
    """Merge submissions into the household register; review duplicates; move households; undo decisions."""


@register.command("merge")
@click.option("--loop", is_flag=True, help="keep merging as submissions arrive (the merge worker)")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls of an empty queue")
@with_appcontext
def register_merge(loop: bool, interval: float):
    """Merge queued submissions into the register, oldest first, one transaction each."""
    from server.database import database_unavailable
    from server.extensions import db
    from server.register.operations import merge_next, note_merge_failure

    merged = failed = outages = 0
    while True:
        try:
            outcome = merge_next()
            commit()
        except Exception as exc:  # noqa: BLE001 - one bad submission must not stop the register
            try:
                db.session.rollback()
            except Exception:  # noqa: BLE001 - the connection may be gone with the database
                db.session.remove()
            if database_unavailable(exc):  # not the submission's fault: wait, and count no attempt
                outages += 1
                click.echo(f"database unavailable ({type(exc).__name__}); merging resumes when it is back", err=True)
                time.sleep(min(interval * 2 ** min(outages, 5), 30))
                continue
            submission_id = note_merge_failure(exc)
            commit()
            failed += 1
            click.echo(f"merge of submission {submission_id} failed ({type(exc).__name__}); will retry", err=True)
            continue
        outages = 0
        if outcome is not None:
            merged += 1
            continue
        if not loop:
            break
        time.sleep(interval)
    click.echo(f"merged {merged} submission(s)" + (f", {failed} failed attempt(s)" if failed else ""))


@register.command("rebuild")
@with_appcontext
def register_rebuild():
    """Rebuild the register from every raw submission and the recorded decisions (the same result as merging
    them as they came)."""
    from server.register.operations import rebuild_register

    applied = rebuild_register()
    commit()
    click.echo(f"register rebuilt from {applied} submission(s)")


cli.add_command(register_rebuild, "rebuild")


def _principal(username: str):
    from server.users.queries import principal_by_username

    principal = principal_by_username(username)
    if principal is None:
        raise click.ClickException(f"no active user {username!r}")
    return principal


_AS_USER = click.option("--user", "username", required=True, help="the village cadre or town officer deciding")


@register.command("scan")
@click.option("--village", "village_name", help="only this village, e.g. 青山镇/东村 (default: every village)")
@with_appcontext
def register_scan(village_name: str | None):
    """Look for duplicate people in whole villages; sure pairs are merged, the rest queued for review."""
    from server.areas.operations import find_area
    from server.register.operations import scan_duplicates

    villages = [find_area(village_name).id] if village_name else None
    found, merged = scan_duplicates(village_ids=villages)
    commit()
    click.echo(f"{found} candidate pair(s), {merged} merged automatically")


@register.command("duplicates")
@click.option("--area", "area_name", help="only candidates in this area (default: all)")
@with_appcontext
def register_duplicates(area_name: str | None):
    """The review queue: open candidate pairs of people and households, best first (ids, score and reasons;
    names are on the review page)."""
    from server.areas.operations import find_area
    from server.register.queries import open_candidates
    from sync.households import HOUSEHOLD_REASONS
    from sync.identity import REASONS

    for candidate in open_candidates(find_area(area_name).path if area_name else None):
        explained = REASONS if candidate.record_kind == "person" else HOUSEHOLD_REASONS
        reasons = "; ".join(explained[code][1] for code in candidate.reasons.split())
        click.echo(f"{candidate.id:6} {candidate.record_kind:9} {candidate.score:.2f} {candidate.a_uuid} "
                   f"{candidate.b_uuid}  {reasons}")


@register.command("merge-pair")
@click.argument("candidate_id", type=int)
@click.option("--keep", "kept_uuid", required=True, help="the uuid of the record kept (one of the pair)")
@_AS_USER
@with_appcontext
def register_merge_pair(candidate_id: int, kept_uuid: str, username: str):
    """Merge a candidate pair into the record kept (undo with `register undo`)."""
    from server.register.operations import merge_candidate

    decision_id = merge_candidate(_principal(username), candidate_id, kept_uuid)
    commit()
    click.echo(f"merged: decision {decision_id}")


@register.command("distinct")
@click.argument("candidate_id", type=int)
@_AS_USER
@with_appcontext
def register_distinct(candidate_id: int, username: str):
    """Record that a candidate pair is two different people."""
    from server.register.operations import mark_distinct

    mark_distinct(_principal(username), candidate_id)
    commit()
    click.echo(f"candidate {candidate_id}: two people")


@register.command("move-household")
@click.argument("household_uuid")
@click.argument("group_name")
@_AS_USER
@with_appcontext
def register_move_household(household_uuid: str, group_name: str, username: str):
    """Move a household to another villager group, e.g. 青山镇/东村/第二组."""
    from server.areas.operations import find_area
    from server.register.operations import move_household

    decision_id = move_household(_principal(username), household_uuid, find_area(group_name).id)
    commit()
    click.echo(f"moved: decision {decision_id}")


@register.command("set-tier")
@click.argument("person_uuid")
@click.argument("tier")
@_AS_USER
@with_appcontext
def register_set_tier(person_uuid: str, tier: str, username: str):
    """Give a person a service tier of the schedule (e.g. key, general, followup; "none" to clear), from today."""
    from server.register.operations import set_tier
    from server.schedules.operations import current_schedule

    decision_id = set_tier(_principal(username), person_uuid, "" if tier == "none" else tier,
                           tiers=current_schedule().tier_names)
    commit()
    click.echo(f"tier set: decision {decision_id}")


@register.command("undo")
@click.argument("decision_id", type=int)
@_AS_USER
@with_appcontext
def register_undo(decision_id: int, username: str):
    """Undo a merge or a move exactly, as if it had never been made."""
    from server.register.operations import undo_decision

    undo_decision(_principal(username), decision_id)
    commit()
    click.echo(f"decision {decision_id} undone")


# ---- reports ----------------------------------------------------------------------------------------------

@cli.group()
def report():
    """The town office's Excel reports (only the area the --user may see; every export is audited)."""


def _write_monthly_report(build, area_name: str, month: str, out: Path, username: str) -> None:
    import datetime as dt

    content = build(_principal(username), area_name, dt.datetime.strptime(month, "%Y-%m").date())
    out.write_bytes(content)
    commit()
    click.echo(f"{out}: {len(content):,} bytes")


@report.command("monthly-change")
@click.argument("area_name")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_AS_USER
@with_appcontext
def report_monthly_change(area_name: str, month: str, out: Path, username: str):
    """月变更报告单 of a town or village, e.g. 青山镇 --month 2026-10."""
    from server.exports.operations import monthly_change_report

    _write_monthly_report(monthly_change_report, area_name, month, out, username)


@report.command("coverage")
@click.argument("area_name")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_AS_USER
@with_appcontext
def report_coverage(area_name: str, month: str, out: Path, username: str):
    """随访情况: visits due, done on time, late and overdue per group, and each collector's overdue list."""
    from server.exports.operations import coverage_report

    _write_monthly_report(coverage_report, area_name, month, out, username)


@report.command("register")
@click.argument("area_name")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_AS_USER
@with_appcontext
def report_register(area_name: str, out: Path, username: str):
    """台账: the register of an area, one sheet per group (streamed: a county fits in little memory)."""
    from server.exports.operations import register_export

    people = register_export(_principal(username), area_name, str(out))
    commit()
    click.echo(f"{out}: {people:,} people")


# ---- schedules ------------------------------------------------------------------------------------------

@cli.group()
def schedule():
    """The visit schedule: tiers and event windows (TAIZHANG_SCHEDULE_FILE, else the default)."""


@schedule.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def schedule_check(path: Path):
    """Validate a schedule file before pointing TAIZHANG_SCHEDULE_FILE at it."""
    from sync.schedules import parse_schedule

    parsed = parse_schedule(path.read_text("utf-8"), source=path.name)
    click.echo(f"{path.name}: {len(parsed.tiers)} tier rule(s), {len(parsed.events)} event rule(s), "
               f"timezone {parsed.timezone}")


@schedule.command("show")
@with_appcontext
def schedule_show():
    """The rules in force."""
    from server.schedules.operations import current_schedule

    parsed = current_schedule()
    click.echo(f"timezone {parsed.timezone}")
    for rule in parsed.tiers:
        click.echo(f"{rule.code:18} tier {rule.tier:9} once a {rule.period:8} {rule.label_zh}")
    for rule in parsed.events:
        click.echo(f"{rule.code:18} after {rule.anchor:18} days {rule.due_from_day}-{rule.overdue_after_day}, "
                   f"until day {rule.expires_after_day}  {rule.label_zh}")


# ---- backup and restore ----------------------------------------------------------------------------------

@cli.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path):
    """Back up the database and the attachment files into one archive OUT (name it .tar.gz to compress it).
    Safe while the server runs: the database is copied as one consistent snapshot."""
    from server.backup.operations import back_up

    if not out.parent.is_dir():
        raise click.ClickException(f"no folder {out.parent}")
    result = back_up(out)
    manifest = result.manifest
    click.echo(f"{out}: {manifest.engine} database at revision {manifest.alembic_revision}, "
               f"{manifest.counts.get('submission', 0)} submission(s), {manifest.counts.get('person', 0)} "
               f"person record(s), {result.files} file(s); {out.stat().st_size:,} bytes")
    if result.files_missing:
        click.echo(f"WARNING: {result.files_missing} attachment or media file(s) the database names were already "
                   f"missing from {current_app.config['TAIZHANG_BLOB_DIR']}", err=True)


@cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace a database that already holds data")
@with_appcontext
def restore_command(archive: Path, force: bool):
    """Restore an archive made by `taizhang backup` into the configured database and attachment store.
    Everything is checked before anything changes; stop the server (and its merge worker) first."""
    from server.backup.operations import restore

    result = restore(archive, force=force)
    manifest = result.manifest
    click.echo(f"restored {archive.name} (made {manifest.created_at} by taizhang {manifest.taizhang_version}): "
               f"{manifest.counts.get('submission', 0)} submission(s), {manifest.counts.get('person', 0)} person "
               f"record(s), {result.files_added} file(s) added to the attachment store")
    if result.migrated_to:
        click.echo(f"the backup's schema revision {manifest.alembic_revision} was migrated to {result.migrated_to}")


# ---- the attachment store --------------------------------------------------------------------------------

@cli.group()
def blobs():
    """Upkeep of the attachment store (TAIZHANG_BLOB_DIR)."""


@blobs.command("prune")
@click.option("--older-than", "hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="spare files stored in the last HOURS hours (uploads still in progress)")
@click.option("--dry-run", is_flag=True, help="count what would be removed, remove nothing")
@with_appcontext
def blobs_prune(hours: float, dry_run: bool):
    """Remove files no submission or form names: left by refused, interrupted or failed uploads, or by a restore
    over an older store. Safe while the server runs."""
    from server.blobs.operations import prune_blobs

    result = prune_blobs(blob_store(), now=clock.now(), grace=dt.timedelta(hours=hours), dry_run=dry_run)
    if result.put_back:
        click.echo(f"{result.put_back} file(s) an interrupted prune had set aside were put back")
    if dry_run:
        click.echo(f"{result.files} file(s) stored; {result.unnamed} named by no row and older than {hours:g} h "
                   f"would be removed (dry run: nothing removed)")
    else:
        click.echo(f"{result.files} file(s) stored; {result.removed} named by no row and older than {hours:g} h "
                   f"removed ({result.bytes_removed:,} bytes), {result.partial_removed} partial upload(s) removed")


# ---- demo and serving --------------------------------------------------------------------------------------

@cli.command("demo")
@with_appcontext
def demo_command():
    """Create (or refresh) the demo town, its collectors and forms; print credentials."""
    from server.demo import seed_demo

    _upgrade()
    _print_demo(seed_demo())


def _print_demo(demo) -> None:
    for result in demo.forms:
        _print_publish(result)
    click.echo("\nDemo collectors (ODK Collect → Settings → Project → Server):")
    for creds, area_name in demo.collectors:
        click.echo(f"- {area_name}")
        _print_credentials(creds)
    if demo.cadre is not None:
        creds, area_name = demo.cadre
        click.echo(f"\nDemo village cadre of {area_name} (due and overdue lists at /due, JSON at /api/v1/due):")
        _print_credentials(creds)
    if demo.visits:
        click.echo(f"\nDemo register: {demo.visits} visit(s) merged")


def _upgrade() -> None:
    """Migrate to the newest schema; on PostgreSQL under an advisory lock, so app servers that start together
    (several machines, one database) migrate one after the other."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from server.extensions import db

    directory = str(Path(__file__).parent / "migrations")
    if db.engine.dialect.name != "postgresql":
        upgrade(directory=directory)
        return
    with db.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(72240001)"))
        try:
            upgrade(directory=directory)
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(72240001)"))


@cli.command("serve")
@click.option("--demo", is_flag=True, help="create the demo town, collectors and forms first")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--threads", default=4, show_default=True, type=int, help="threads per worker")
@with_appcontext
def serve(demo, host, port, workers, threads):
    """Apply migrations, then serve with gunicorn (worker processes whose event loop reads each request whole before
    a thread runs it: slow clients hold no thread) and a register merge worker."""
    current_app.config["TAIZHANG_PUBLIC_URL"] = current_app.config["TAIZHANG_PUBLIC_URL"] or f"http://{host}:{port}"
    if current_app.config["TAIZHANG_MIGRATE_ON_START"]:
        _upgrade()
    if demo:
        from server.demo import seed_demo

        _print_demo(seed_demo())
    from server.wsgi import run_gunicorn

    click.echo(f"\nServing on http://{host}:{port}/  (Ctrl+C to stop)")
    sys.stdout.flush()
    from server.extensions import db

    db.engine.dispose()  # workers open their own connections
    merge_worker = subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()",
                                     "register", "merge", "--loop"])
    try:
        run_gunicorn(f"{host}:{port}", workers=workers, threads=threads)
    finally:
        merge_worker.terminate()
        merge_worker.wait(timeout=30)


def main() -> None:
    cli(prog_name="taizhang")


if __name__ == "__main__":
    main()
