"""Encryption at rest for store access tokens, and the guards that keep tokens out of logs and
error pages. The only place a token is decrypted is `EncryptedTextField.from_db_value`."""
import logging
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.views.debug import SafeExceptionReporterFilter

_CIPHERTEXT_PREFIX = "fernet:"


def _fernet() -> MultiFernet:
    keys = [key for key in settings.ITBC_ENCRYPTION_KEYS if key]
    if not keys:
        raise ImproperlyConfigured("ITBC_ENCRYPTION_KEYS is empty: set a Fernet key to store access tokens.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("ITBC_ENCRYPTION_KEYS holds a key that is not a Fernet key.") from exc


def encrypt_text(plaintext: str) -> str:
    return _CIPHERTEXT_PREFIX + _fernet().encrypt(plaintext.encode()).decode()


def decrypt_text(stored: str) -> str:
    if not stored.startswith(_CIPHERTEXT_PREFIX):
        raise ValueError("stored value is not ciphertext")
    try:
        return _fernet().decrypt(stored[len(_CIPHERTEXT_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored access token cannot be decrypted with ITBC_ENCRYPTION_KEYS (was the key changed?)."
        ) from exc


class SecretStr(str):
    """A str whose repr never shows the value, so it cannot leak through debug output."""

    def __repr__(self):
        return "'********'"


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code sees the plaintext as a `SecretStr`."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return SecretStr(decrypt_text(value))

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_text(str(value))

    def value_to_string(self, obj):
        # Serialisation (dumpdata, history) gets ciphertext, never plaintext.
        return self.get_prep_value(self.value_from_object(obj))


_TOKEN_PATTERNS = [
    re.compile(r"(?i)(x-auth-token['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)"),
    re.compile(r"(?i)(access_token['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)"),
]


def redact(text: str) -> str:
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(r"\1********", text)
    return text


class RedactTokensFilter(logging.Filter):
    """Last line of defence: masks anything shaped like an auth header or token in a log line."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args) if isinstance(
                record.args, tuple
            ) else record.args
        return True


class TokenSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hides token-like local variables and POST fields on error pages and in error mails."""

    hidden_settings = re.compile("API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|ENCRYPTION", flags=re.I)
    _sensitive_name = re.compile("token|secret|password|auth", flags=re.I)

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self._cleanse_variable(name, value)) for name, value in variables]

    def _cleanse_variable(self, name, value):
        if self._sensitive_name.search(name):
            return self.cleansed_substitute
        if isinstance(value, dict):
            # e.g. a service's `data` holding a form's cleaned_data with the access_token in it
            return {key: self._cleanse_variable(str(key), item) for key, item in value.items()}
        if isinstance(value, SecretStr):
            return self.cleansed_substitute
        return value

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if not params:
            return params
        cleansed = params.copy()
        for name in list(cleansed.keys()):
            if self._sensitive_name.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed
