"""Demo set-up used by `make run`: an admin login printed once, and a store connection that points
at the local sandbox store."""
import secrets

from django.contrib.auth import get_user_model

from .roles import ADMIN, roles_ensure

DEMO_ADMIN_USERNAME = "admin"


def register(subparsers, command):
    admin = subparsers.add_parser("demo-admin", help="Create the demo admin login (printed once).")
    admin.set_defaults(handler=handle_demo_admin)


def handle_demo_admin(command, options) -> int:
    user_model = get_user_model()
    if user_model.objects.filter(username=DEMO_ADMIN_USERNAME).exists():
        command.stdout.write(
            f"Log in as '{DEMO_ADMIN_USERNAME}' (its password was printed on the first start; "
            f"`python manage.py changepassword {DEMO_ADMIN_USERNAME}` sets a new one)."
        )
        return 0
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_superuser(username=DEMO_ADMIN_USERNAME, email="", password=password)
    user.groups.add(roles_ensure()[ADMIN])
    banner = "=" * 60
    command.stdout.write(
        f"{banner}\n  itbc admin login (shown only this once)\n"
        f"  username: {DEMO_ADMIN_USERNAME}\n  password: {password}\n{banner}"
    )
    return 0
