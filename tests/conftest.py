"""Shared fixtures: users in each role, service gates, and a real Chromium for page tests."""
import os
import shutil

import pytest
from django.conf import settings

# Reusable fixtures of other test packages.
pytest_plugins = ["tests.bigcommerce.sandbox_fixtures"]

CHROMIUM_PATH = os.environ.get("ITBC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    in_ci = os.environ.get("CI", "").lower() == "true"
    skip_redis = pytest.mark.skip(reason="Redis is not reachable (see the notice above)")
    skip_postgres = pytest.mark.skip(reason="PostgreSQL is not reachable (see the notice above)")
    have_chromium = shutil.which(CHROMIUM_PATH) is not None
    skip_browser = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM_PATH}; `apt-get install chromium`")
    for item in items:
        if "redis" in item.keywords and not settings.ITBC_TEST_REDIS:
            item.add_marker(skip_redis)
        if "postgres" in item.keywords and not settings.ITBC_TEST_POSTGRES:
            item.add_marker(skip_postgres)
        if "browser" in item.keywords and not have_chromium:
            if in_ci:
                raise pytest.UsageError(f"CI=true and Chromium is missing at {CHROMIUM_PATH}")
            item.add_marker(skip_browser)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roles(db):
    from plugin.configuration.roles import roles_ensure

    return roles_ensure()


def _user_in(group_name, roles, django_user_model, username):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    user.groups.add(roles[group_name])
    return user


@pytest.fixture
def admin_user_role(roles, django_user_model):
    return _user_in("Admin", roles, django_user_model, "alice-admin")


@pytest.fixture
def operator_user(roles, django_user_model):
    return _user_in("Operator", roles, django_user_model, "oscar-operator")


@pytest.fixture
def viewer_user(roles, django_user_model):
    return _user_in("Viewer", roles, django_user_model, "vera-viewer")


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
