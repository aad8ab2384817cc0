"""Redis stopped (a server this test starts and stops): job buttons answer 503 and start nothing, the
job commands print one line and exit 1, and /healthz says which service is down."""
import io
import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from plugin.portal.jobqueue import JOB_QUEUE_UNREACHABLE
from plugin.portal.services import BEAT, heartbeat_record
from plugin.sync.models import SyncRun
from tests.configuration.factories import BasicConfigurationFactory

from .conftest import portal_using

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def store(db):
    return BasicConfigurationFactory().store


def test_job_buttons_answer_503_and_record_nothing_while_redis_is_down(client, operator_user, store, redis_server):
    client.force_login(operator_user)
    with portal_using(redis_server.url):
        redis_server.stop()
        page = client.post(f"/runs/start/{store.pk}/import_products/")
        assert page.status_code == 503
        assert JOB_QUEUE_UNREACHABLE in page.content.decode()
        assert b"ConnectionError" not in page.content and b"Traceback" not in page.content
        script = client.post(f"/runs/start/{store.pk}/eod_export/", HTTP_ACCEPT="application/json")
        assert script.status_code == 503 and script.json() == {"error": JOB_QUEUE_UNREACHABLE}
        retry = client.post("/runs/1/retry/")
        assert retry.status_code == 503
    assert SyncRun.objects.count() == 0


def test_a_broker_error_anywhere_in_a_view_is_the_503_page_not_a_500(client, operator_user, store, monkeypatch):
    from kombu.exceptions import OperationalError

    from plugin.sync import views

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    # The queue answered the check, then went away before the task was sent.
    monkeypatch.setattr(views, "job_trigger", refuse)
    client.force_login(operator_user)
    response = client.post(f"/runs/start/{store.pk}/import_products/")
    assert response.status_code == 503 and JOB_QUEUE_UNREACHABLE in response.content.decode()


def test_job_commands_print_one_line_and_exit_1_while_redis_is_down(store, redis_server):
    with portal_using(redis_server.url):
        redis_server.stop()
        for command in ("eod", "import-orders", "bootstrap"):
            err = io.StringIO()
            with pytest.raises(SystemExit) as exit_info:
                call_command("itbc", command, "--store", store.name, stdout=io.StringIO(), stderr=err)
            assert exit_info.value.code == 1
            lines = err.getvalue().strip().splitlines()
            assert len(lines) == 1, lines
            assert lines[0].startswith(JOB_QUEUE_UNREACHABLE)
            assert f"127.0.0.1:{redis_server.port}" in lines[0]
    assert SyncRun.objects.count() == 0


def test_the_command_line_shows_no_password_of_the_redis_url(store, redis_server):
    url = f"redis://:s3cret-pass@127.0.0.1:{redis_server.port}/0"
    with portal_using(url):
        redis_server.stop()
        err = io.StringIO()
        with pytest.raises(SystemExit):
            call_command("itbc", "eod", "--store", store.name, stderr=err)
    assert "s3cret-pass" not in err.getvalue()


def _health(client):
    response = client.get("/healthz")
    return response.status_code, response.json()


def test_health_report_while_redis_is_down(client, redis_server):
    with portal_using(redis_server.url):
        redis_server.stop()
        heartbeat_record(name=BEAT)
        status, report = _health(client)
    assert status == 503 and report["status"] == "unavailable"
    checks = report["checks"]
    assert set(checks) == {"database", "redis", "broker", "worker", "beat"}
    assert checks["database"]["state"] == "up"
    assert checks["redis"] == {"state": "down", "error": "not reachable (ConnectionError)"}
    # The endpoint is public: no address of the services behind it.
    assert str(redis_server.port) not in json.dumps(report)
    assert checks["broker"]["state"] == "down"
    assert checks["worker"]["state"] == "down"
    assert checks["beat"]["state"] == "up"


def test_health_report_names_a_silent_beat_and_a_missing_worker(client, redis_server):
    with portal_using(redis_server.url):
        heartbeat_record(name=BEAT, at=timezone.now() - timezone.timedelta(minutes=10))
        status, report = _health(client)
    checks = report["checks"]
    assert status == 503
    assert checks["redis"]["state"] == "up" and checks["broker"]["state"] == "up"
    assert checks["worker"]["state"] == "down" and "no worker answered" in checks["worker"]["error"]
    assert checks["beat"]["state"] == "down" and checks["beat"]["age_seconds"] >= 600


def _start_worker(url: str, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.local",
        "REDIS_URL": url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "DJANGO_SECRET_KEY": "worker-only-secret",
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "celery"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "itbc_portal", "worker", "--pool", "solo", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING", "-n", f"health-{os.getpid()}@%h"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _ping(app, timeout):
    with app.connection_for_write() as connection:
        return app.control.ping(timeout=timeout, connection=connection)


def test_health_report_is_200_only_when_every_service_is_up(client, redis_server, tmp_path):
    with portal_using(redis_server.url) as app:
        worker = _start_worker(redis_server.url, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while not _ping(app, 0.5):
                assert worker.poll() is None, "the worker exited"
                assert time.monotonic() < deadline, "the worker did not answer within 60 s"
            heartbeat_record(name=BEAT)
            status, report = _health(client)
            assert status == 200, report
            assert report["status"] == "ok"
            assert {name: check["state"] for name, check in report["checks"].items()} == {
                "database": "up", "redis": "up", "broker": "up", "worker": "up", "beat": "up"}
            assert report["checks"]["worker"]["workers"] == len(_ping(app, 1)) == 1
            # The same worker, Redis stopped under it: everything that needs Redis is down.
            redis_server.stop()
            status, report = _health(client)
            assert status == 503
            assert {name for name, check in report["checks"].items() if check["state"] == "down"} == {
                "redis", "broker", "worker"}
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@pytest.mark.django_db(transaction=True)
def test_beat_records_its_ticks():
    from itbc_portal.celery import app
    from plugin.portal.beat import HeartbeatDatabaseScheduler
    from plugin.portal.selectors import heartbeat_at

    before = timezone.now()
    scheduler = HeartbeatDatabaseScheduler(app=app, lazy=False)
    scheduler.tick()
    assert heartbeat_at(name=BEAT) >= before
