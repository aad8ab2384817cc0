"""`manage.py itbc keys new|rotate`: encryption keys for stored access tokens (see keys.py)."""
from django.core.exceptions import ImproperlyConfigured

from .keys import access_tokens_reencrypt, encryption_key_new


def register(subparsers, command):
    keys = subparsers.add_parser("keys", help="Make a new encryption key; re-encrypt tokens with the newest key.")
    actions = keys.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="Print a new Fernet key to put first in ITBC_ENCRYPTION_KEYS.")
    new.set_defaults(handler=keys_new)
    rotate = actions.add_parser(
        "rotate", help="Re-encrypt every stored access token with the first key of ITBC_ENCRYPTION_KEYS."
    )
    rotate.set_defaults(handler=keys_rotate)


def keys_new(command, options) -> int:
    command.stdout.write(encryption_key_new())
    return 0


def keys_rotate(command, options) -> int:
    try:
        count = access_tokens_reencrypt()
    except ImproperlyConfigured as exc:
        command.stderr.write(str(exc))
        return 1
    command.stdout.write(f"{count} access token(s) re-encrypted with the newest key. The older keys may now be removed.")
    return 0
