"""`taizhang backup`, `taizhang restore`, `taizhang backup-key` and `taizhang blobs prune`: the database and the
attachment store kept safe."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from server import clock
from server.backup.encryption import new_key_file
from server.backup.operations import back_up, restore
from server.blobs.operations import prune_blobs
from server.storage import blob_store

__all__ = ["backup_command", "backup_key_command", "blobs", "restore_command"]


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--unencrypted", is_flag=True,
              help="with no backup key configured, write the archive unencrypted (it holds everyone's personal data)")
@with_appcontext
def backup_command(out: Path, unencrypted: bool):
    """Back up the database and the attachment files into one archive OUT, encrypted to the configured key
    (TAIZHANG_BACKUP_KEY_FILE; name it .tar.gz.age to compress it). Safe while the server runs: the database is
    copied as one consistent snapshot."""
    if not out.parent.is_dir():
        raise click.ClickException(f"no folder {out.parent}")
    result = back_up(out, unencrypted=unencrypted)
    manifest = result.manifest
    sealed = f"encrypted to {result.encrypted_to}" if result.encrypted_to else "NOT encrypted"
    click.echo(f"{out}: {manifest.engine} database at revision {manifest.alembic_revision}, "
               f"{manifest.counts.get('submission', 0)} submission(s), {manifest.counts.get('person', 0)} "
               f"person record(s), {result.files} file(s); {out.stat().st_size:,} bytes, {sealed}")
    if unencrypted and result.encrypted_to:
        click.echo("--unencrypted was ignored: a backup key is configured, so the archive is encrypted", err=True)
    elif not result.encrypted_to:
        click.echo("WARNING: the archive is not encrypted and holds the personal data of the whole register; keep it "
                   "on an encrypted disk, or configure TAIZHANG_BACKUP_KEY_FILE (docs/backup.md)", err=True)
    if result.files_missing:
        click.echo(f"WARNING: {result.files_missing} attachment or media file(s) the database names were already "
                   f"missing from {current_app.config['TAIZHANG_BLOB_DIR']}", err=True)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace a database that already holds data")
@with_appcontext
def restore_command(archive: Path, force: bool):
    """Restore an archive made by `taizhang backup` into the configured database and attachment store.
    Everything is checked before anything changes; stop the server (and its merge worker) first."""
    result = restore(archive, force=force)
    manifest = result.manifest
    click.echo(f"restored {archive.name} (made {manifest.created_at} by taizhang {manifest.taizhang_version}): "
               f"{manifest.counts.get('submission', 0)} submission(s), {manifest.counts.get('person', 0)} person "
               f"record(s), {result.files_added} file(s) added to the attachment store")
    if result.migrated_to:
        click.echo(f"the backup's schema revision {manifest.alembic_revision} was migrated to {result.migrated_to}")


@click.command("backup-key")
@click.argument("keyfile", type=click.Path(dir_okay=False, path_type=Path))
def backup_key_command(keyfile: Path):
    """Make a new backup key: write its secret key to KEYFILE (a new file, readable by its owner only) and print its
    public key. Set TAIZHANG_BACKUP_KEY_FILE=KEYFILE; keep a copy of the file away from the backups."""
    try:
        public = new_key_file(keyfile, clock.now().isoformat(timespec="seconds"))
    except FileExistsError as exc:
        raise click.ClickException(f"{keyfile} exists already: a key is never overwritten") from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {keyfile}: {exc.strerror}") from exc
    click.echo(f"{keyfile}: new backup key; public key {public}")


@click.group()
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
    result = prune_blobs(blob_store(), now=clock.now(), grace=dt.timedelta(hours=hours), dry_run=dry_run)
    if result.put_back:
        click.echo(f"{result.put_back} file(s) an interrupted prune had set aside were put back")
    if dry_run:
        click.echo(f"{result.files} file(s) stored; {result.unnamed} named by no row and older than {hours:g} h "
                   f"would be removed (dry run: nothing removed)")
    else:
        click.echo(f"{result.files} file(s) stored; {result.removed} named by no row and older than {hours:g} h "
                   f"removed ({result.bytes_removed:,} bytes), {result.partial_removed} partial upload(s) removed")
