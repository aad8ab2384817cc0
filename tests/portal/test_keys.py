"""Key rotation: a new key first, the old ones still decrypt, and the command re-encrypts every token."""
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from plugin.configuration.crypto import decrypt_text
from plugin.configuration.models import StoreConnection
from tests.configuration.factories import StoreConnectionFactory

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _ciphertext(store) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM configuration_storeconnection WHERE id = %s", [store.pk])
        return cursor.fetchone()[0]


def test_rotate_reencrypts_every_token_with_the_newest_key():
    with override_settings(ITBC_ENCRYPTION_KEYS=[OLD]):
        first = StoreConnectionFactory(access_token="token-one")
        second = StoreConnectionFactory(access_token="token-two")
        empty = StoreConnectionFactory(access_token="")
    with override_settings(ITBC_ENCRYPTION_KEYS=[NEW, OLD]):
        # The old key still decrypts before the rotation.
        assert StoreConnection.objects.get(pk=first.pk).access_token == "token-one"
        out = io.StringIO()
        call_command("itbc", "keys", "rotate", stdout=out)
        assert out.getvalue().startswith("2 access token(s) re-encrypted")
        history_rows = first.history.count()
    with override_settings(ITBC_ENCRYPTION_KEYS=[NEW]):
        # The new key alone now decrypts what is stored; the old one can go.
        assert decrypt_text(_ciphertext(first)) == "token-one"
        assert decrypt_text(_ciphertext(second)) == "token-two"
        assert StoreConnection.objects.get(pk=empty.pk).access_token == ""
        assert first.history.count() == history_rows
    with override_settings(ITBC_ENCRYPTION_KEYS=[OLD]), pytest.raises(Exception, match="cannot be decrypted"):
        decrypt_text(_ciphertext(first))


def test_new_prints_a_fernet_key():
    out = io.StringIO()
    call_command("itbc", "keys", "new", stdout=out)
    Fernet(out.getvalue().strip().encode())  # raises unless it is a valid key
