"""`manage.py itbc api-token create|list|revoke`: API tokens without the browser. A new token is printed
once; only its hash is stored."""
from django.contrib.auth import get_user_model

from .selectors import api_token_list
from .services import api_token_create, api_token_revoke


def register(subparsers, command):
    tokens = subparsers.add_parser("api-token", help="Create, list and revoke REST API tokens.")
    actions = tokens.add_subparsers(dest="token_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="Create a token for a user and print it (shown once).")
    create.add_argument("--user", required=True, metavar="USERNAME")
    create.set_defaults(handler=token_create)
    listing = actions.add_parser("list", help="List tokens by their first characters.")
    listing.set_defaults(handler=token_list)
    revoke = actions.add_parser("revoke", help="Revoke the token starting with PREFIX (as listed).")
    revoke.add_argument("prefix", metavar="PREFIX")
    revoke.set_defaults(handler=token_revoke)


def token_create(command, options) -> int:
    user = get_user_model().objects.filter(username=options["user"]).first()
    if user is None or not user.is_active:
        command.stderr.write(f"No active user named {options['user']!r}.")
        return 1
    _, token = api_token_create(user=user)
    command.stdout.write(token)
    return 0


def token_list(command, options) -> int:
    for row in api_token_list():
        command.stdout.write(f"{row.token_key}  {row.user.get_username()}  {row.created:%Y-%m-%d %H:%M}")
    return 0


def token_revoke(command, options) -> int:
    if not api_token_revoke(token_key=options["prefix"]):
        command.stderr.write(f"No token starts with {options['prefix']!r}.")
        return 1
    command.stdout.write(f"Token {options['prefix']}... revoked.")
    return 0
