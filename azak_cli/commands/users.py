"""`azak users create`: API users."""

import argparse
from typing import Any

from azak_cli.errors import UsageError
from azak_cli.runtime import environment


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("users", help="API users")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a user who can log in to the API")
    create.add_argument("--email", required=True, help="the e-mail the user logs in with")
    create.add_argument("--password", required=True, help="10 to 128 characters")
    create.add_argument("--admin", action="store_true", help="give the admin role")
    create.add_argument("--reset-password", action="store_true",
                        help="if the e-mail exists, set its password and role instead of failing")
    create.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from azak_api.admin import UserExists, upsert_user

    if "@" not in args.email or len(args.email) > 320:
        raise UsageError(f"--email must be an e-mail address, got {args.email!r}")
    if not 10 <= len(args.password) <= 128:
        raise UsageError("--password must be 10 to 128 characters")
    with environment.session() as runtime:
        try:
            user_id, created = upsert_user(runtime.database.render(), args.email, args.password, args.admin,
                                           args.reset_password)
        except UserExists as exc:
            raise UsageError(f"{exc}; pass --reset-password to set its password and role") from None
    role = "admin" if args.admin else "user"
    print(f"{'created' if created else 'updated'} {role} {args.email.lower()} (id {user_id})")
    return 0
