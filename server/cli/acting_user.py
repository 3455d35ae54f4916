"""The --user option of commands a staff member takes, and the principal that user name stands for."""

from __future__ import annotations

import click

from server.users.queries import principal_by_username

__all__ = ["as_user", "principal"]

as_user = click.option("--user", "username", required=True, help="the village cadre or town officer deciding")


def principal(username: str):
    """The active user `username`, as the principal their decisions and exports are taken by."""
    found = principal_by_username(username)
    if found is None:
        raise click.ClickException(f"no active user {username!r}")
    return found
