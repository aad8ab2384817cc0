"""Production settings must pass Django's deployment checklist."""
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings


def _environment_without_test_switches() -> dict[str, str]:
    # The browser fixture allows sync ORM calls under Playwright's loop; production never does.
    return {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def test_production_settings_pass_check_deploy():
    env = {
        **_environment_without_test_switches(),
        "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ITBC_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{settings.VAR_DIR / 'deploy-check.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**_environment_without_test_switches(), "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.production"}
    env["DJANGO_SECRET_KEY"] = ""  # an empty value also masks one from a local .env file
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("keys,message", [
    ("", "Set ITBC_ENCRYPTION_KEYS"),
    ("not-a-fernet-key", "not a Fernet key"),
])
def test_production_settings_refuse_to_start_without_encryption_keys(keys, message):
    env = {
        **_environment_without_test_switches(),
        "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ITBC_ENCRYPTION_KEYS": keys,  # an empty value also masks one from a local .env file
        "DATABASE_URL": f"sqlite:///{settings.VAR_DIR / 'deploy-check.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr
