"""`azak users create`: API users."""

import argparse
from datetime import date, datetime, time, timedelta
from typing import Any

from azak_cli.errors import UsageError
from azak_cli.output import print_json
from azak_cli.runtime import environment
from azak_core.market import KST


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("users", help="API users")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a user who can log in to the API")
    create.add_argument("--email", required=True, help="the e-mail the user logs in with")
    create.add_argument("--password", required=True, help="10 to 128 characters")
    create.add_argument("--admin", action="store_true", help="give the admin role")
    create.add_argument("--reset-password", action="store_true",
                        help="if the e-mail exists, set its password, role and expiry instead of failing")
    create.add_argument("--expires", type=expiry, metavar="WHEN",
                        help="end of the account: a KST day (YYYY-MM-DD: usable through that day) or an "
                             "ISO 8601 time with its offset; refused at login and on every request after")
    create.set_defaults(func=run)
    listing = actions.add_parser("list", help="the API's users: e-mail, role, active, expiry, last login")
    listing.add_argument("--json", action="store_true", help="a JSON array of the users on standard output")
    listing.set_defaults(func=run_list)


def expiry(value: str) -> datetime:
    """``--expires``: a day (the account works through that KST day) or a time with its offset."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=KST)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD or an ISO 8601 time, got {value!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no UTC offset: add one (e.g. +09:00) or give a day")
    return moment


USER_KEYS = ("id", "email", "role", "active", "expires_at", "created_at", "last_login_at")
USERS_SQL = """SELECT id, email, role, is_active, expires_at, created_at, last_login_at
               FROM app.users ORDER BY id"""


def run_list(args: argparse.Namespace) -> int:
    """Every user, oldest first; never a password hash (the app migrations are applied first)."""
    import psycopg

    from azak_api.admin import run_migrations

    with environment.session() as runtime:
        url = runtime.database.render()
        run_migrations(url)
        with psycopg.connect(url, autocommit=True) as conn:
            users = [dict(zip(USER_KEYS, row, strict=True)) for row in conn.execute(USERS_SQL).fetchall()]
    if args.json:
        print_json(users)
        return 0
    for user in users:
        expiry = f", expires {user['expires_at'].isoformat()}" if user["expires_at"] else ""
        login = user["last_login_at"].isoformat() if user["last_login_at"] else "never"
        print(f"{user['id']:>4}  {user['email']}  {user['role']}{'' if user['active'] else ' (inactive)'}"
              f"{expiry}, last login {login}")
    if not users:
        print("no users yet: azak users create --email … --password …")
    return 0


def run(args: argparse.Namespace) -> int:
    from azak_api.admin import UserExists, upsert_user

    if "@" not in args.email or len(args.email) > 320:
        raise UsageError(f"--email must be an e-mail address, got {args.email!r}")
    if not 10 <= len(args.password) <= 128:
        raise UsageError("--password must be 10 to 128 characters")
    with environment.session() as runtime:
        try:
            user_id, created = upsert_user(runtime.database.render(), args.email, args.password, args.admin,
                                           args.reset_password, args.expires)
        except UserExists as exc:
            raise UsageError(f"{exc}; pass --reset-password to set its password and role") from None
    role = "admin" if args.admin else "user"
    ends = f", expires {args.expires.isoformat()}" if args.expires else ""
    print(f"{'created' if created else 'updated'} {role} {args.email.lower()} (id {user_id}{ends})")
    return 0
