"""`taizhang area` and `taizhang user`: towns, villages and groups, and the people who sign in."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from server.areas.operations import ensure_area
from server.areas.queries import all_areas
from server.database import commit
from server.users.models import ROLES
from server.users.operations import NewCredentials, add_user, revoke_token, rotate_token, set_password
from server.users.queries import all_users

__all__ = ["area", "print_credentials", "user"]


@click.group()
def area():
    """Towns, villages and villager groups."""


@area.command("add")
@click.argument("full_name")
@with_appcontext
def area_add(full_name: str):
    """Add an area (and its missing parents), e.g. 青山镇/东村/第一组."""
    created = ensure_area(full_name)
    commit()
    click.echo(f"{created.kind}: {created.full_name}")


@area.command("list")
@with_appcontext
def area_list():
    for row in all_areas():
        click.echo(f"{'  ' * (row.path.count('/') - 2)}{row.kind:8} {row.full_name}")


@click.group()
def user():
    """Collectors, village cadres, town officers and county admins."""


def print_credentials(creds: NewCredentials) -> None:
    """A user's new password and token URL, each if issued."""
    if creds.password:
        click.echo(f"  user name: {creds.username}\n  password:  {creds.password}")
    if creds.token:
        click.echo(f"  token URL: {_token_url(creds.token)}")


def _token_url(token: str) -> str:
    base = current_app.config["TAIZHANG_PUBLIC_URL"] or "http://127.0.0.1:8000"
    return f"{base.rstrip('/')}/key/{token}"


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--area", "area_name", help="group (collector), village (cadre) or town (officer), e.g. 青山镇/东村")
@click.option("--name", "display_name", help="the person's name as shown to others")
@click.option("--password", help="omit to generate one")
@click.option("--token/--no-token", default=None, help="issue an app token URL (default: collectors only)")
@with_appcontext
def user_add(username, role, area_name, display_name, password, token):
    """Add a user; prints the password (and the token URL for collectors) once."""
    creds = add_user(username, role, area_name, realm=current_app.config["TAIZHANG_REALM"],
                     display_name=display_name, password=password, with_token=token)
    commit()
    click.echo(f"added {role} {username}")
    print_credentials(creds)


@user.command("password")
@click.argument("username")
@click.option("--password", help="omit to generate one")
@with_appcontext
def user_password(username, password):
    """Set a new password (web login and ODK Collect)."""
    creds = set_password(username, password, realm=current_app.config["TAIZHANG_REALM"])
    commit()
    print_credentials(creds)


@user.command("token")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="remove the token without issuing a new one")
@with_appcontext
def user_token(username, revoke):
    """Issue a new token URL for a user (the old one stops working)."""
    if revoke:
        revoke_token(username)
        commit()
        click.echo(f"token of {username} revoked")
        return
    creds = rotate_token(username)
    commit()
    print_credentials(creds)


@user.command("list")
@with_appcontext
def user_list():
    for listed in all_users():
        user = listed.user
        state = "" if user.active else " (inactive)"
        click.echo(f"{user.username:20} {user.role:14} {listed.area_full_name or '(county)'}{state}")
