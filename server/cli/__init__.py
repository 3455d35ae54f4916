"""The `taizhang` command: its group, which turns taizhang's errors into messages, and the command groups wired in."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import DBAPIError

from server import create_app
from server.cli.backup import backup_command, backup_key_command, blobs, restore_command
from server.cli.forms import form
from server.cli.privacy import privacy
from server.cli.register import register, register_rebuild
from server.cli.reports import report
from server.cli.schedules import schedule
from server.cli.serve import demo_command, serve
from server.cli.users import area, user
from server.database import translate_db_error
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


for command in (area, user, form, register, report, schedule, backup_command, restore_command, backup_key_command,
                blobs, demo_command, serve, privacy):
    cli.add_command(command)
cli.add_command(register_rebuild, "rebuild")


def main() -> None:
    cli(prog_name="taizhang")
