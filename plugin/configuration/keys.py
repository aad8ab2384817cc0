"""Encryption key rotation for stored access tokens.

ITBC_ENCRYPTION_KEYS lists Fernet keys newest first: the first encrypts, every key decrypts. To rotate,
put a new key first (keep the old ones after it), restart, and run `manage.py itbc keys rotate`, which
re-encrypts every stored token with the new key; then the old keys can be removed."""
from cryptography.fernet import Fernet
from django.db import transaction

from .models import StoreConnection


def encryption_key_new() -> str:
    return Fernet.generate_key().decode()


@transaction.atomic
def access_tokens_reencrypt() -> int:
    """Re-encrypt every stored access token with the newest key. Returns how many were rewritten. An
    update, not save(): a key change is not a configuration change and stays out of the history."""
    count = 0
    for store in StoreConnection.objects.select_for_update().exclude(access_token="").only("pk", "access_token"):
        # Loading decrypts with any listed key; writing encrypts with the first.
        StoreConnection.objects.filter(pk=store.pk).update(access_token=str(store.access_token))
        count += 1
    return count
