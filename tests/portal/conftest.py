"""A Redis server each test starts and stops itself, and a way to point the portal at it."""
import contextlib
import shutil
import socket
import subprocess
import time

import pytest
import redis
from django.test import override_settings

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, tmp_path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@contextlib.contextmanager
def portal_using(url: str):
    """Settings and the Celery app pointed at the Redis at `url` (locks, broker, health checks)."""
    from itbc_portal.celery import app

    def forget_connections():
        # The app keeps a connection pool and a producer pool bound to the broker it first used; kombu's
        # registry of pools is emptied too, or a later test would be handed the closed pool.
        from kombu import pools

        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
        pools.reset()

    saved = app.conf.broker_url
    forget_connections()
    app.conf.broker_url = url
    try:
        with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url):
            yield app
    finally:
        forget_connections()
        app.conf.broker_url = saved
