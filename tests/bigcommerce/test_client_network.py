"""Connection failures over real sockets: which ones the client may repeat, and what it raises."""
import socket
import threading

import pytest

from plugin.bigcommerce.client import BigCommerceClient, client_for_store
from plugin.bigcommerce.errors import ConnectionFailedError, OutcomeUnknownError, TransientError
from plugin.bigcommerce.ratelimit import RateBudget

from .helpers import TOKEN, FakeTime


class MisbehavingServer:
    """A TCP server on a free loopback port that reads each request and then, by `mode`, closes the
    connection without answering ("drop") or holds it open without answering ("hang")."""

    def __init__(self, mode: str):
        self.mode = mode
        self.requests_seen = 0
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(2)
            try:
                data = connection.recv(65536)
            except OSError:
                data = b""
            if data:
                self.requests_seen += 1
            if self.mode == "drop":
                connection.close()
            else:
                self._held.append(connection)

    def close(self):
        self._stop.set()
        self._thread.join(2)
        for connection in self._held:
            connection.close()
        self._listener.close()


@pytest.fixture
def server_factory():
    servers = []

    def make(mode):
        server = MisbehavingServer(mode)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def client_at(port: int, **kwargs) -> BigCommerceClient:
    clock = FakeTime()
    return BigCommerceClient(base_url=f"http://127.0.0.1:{port}", store_hash="abc123", access_token=TOKEN,
                             budget=RateBudget("abc123"), sleep=clock.sleep, clock=clock.clock, **kwargs)


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_a_refused_connection_is_connection_failed_and_is_safe_even_for_a_post():
    client = client_at(closed_port(), max_retries=2, timeout=(1, 1))
    with pytest.raises(ConnectionFailedError) as raised:
        client.adjust_relative([{"location_id": 1, "sku": "A", "quantity": 1}])
    assert "Could not connect" in raised.value.message
    assert TOKEN not in str(raised.value)


def test_a_connection_dropped_after_a_post_was_sent_is_outcome_unknown_and_not_repeated(server_factory):
    server = server_factory("drop")
    with pytest.raises(OutcomeUnknownError):
        client_at(server.port, timeout=(1, 2)).adjust_relative([{"location_id": 1, "sku": "A", "quantity": 1}])
    assert server.requests_seen == 1


def test_a_connection_dropped_on_a_get_is_repeated_then_transient(server_factory):
    server = server_factory("drop")
    with pytest.raises(TransientError) as raised:
        client_at(server.port, max_retries=2, timeout=(1, 2)).get_store()
    assert not isinstance(raised.value, ConnectionFailedError)
    assert server.requests_seen == 3


def test_a_read_timeout_on_a_shipment_is_outcome_unknown_and_on_an_absolute_write_is_repeated(server_factory):
    server = server_factory("hang")
    client = client_at(server.port, max_retries=1, timeout=(1, 0.3))
    with pytest.raises(OutcomeUnknownError):
        client.create_shipment(5, order_address_id=1, items=[{"order_product_id": 2, "quantity": 1}])
    assert server.requests_seen == 1
    with pytest.raises(TransientError):
        client.adjust_absolute([{"location_id": 1, "sku": "A", "quantity": 1}])
    assert server.requests_seen == 3


@pytest.mark.django_db
def test_client_for_store_uses_the_connection_record_and_the_shared_budget():
    from plugin.configuration.models import StoreConnection

    StoreConnection.objects.create(name="demo", store_hash="h4sh", access_token="secret-token-1",
                                   api_base_url="http://127.0.0.1:8123/")
    store = StoreConnection.objects.get(name="demo")  # read back: the token comes out decrypted

    client = client_for_store(store)
    again = client_for_store(store)

    assert client.url("v3", "/catalog/products") == "http://127.0.0.1:8123/stores/h4sh/v3/catalog/products"
    assert client._session.headers["X-Auth-Token"] == "secret-token-1"
    assert client.budget.store_hash == "h4sh"
    client.budget.record(1_000, left=40, reset_ms=5_000, quota=150, window_ms=30_000)
    assert again.budget.snapshot()["left"] == 40  # both clients count against one budget
    if hasattr(client.budget, "clear"):
        client.budget.clear()


def test_a_malformed_base_url_fails_at_once_with_a_clear_message():
    clock = FakeTime()
    client = BigCommerceClient(base_url="api.bigcommerce.com", store_hash="abc123", access_token=TOKEN,
                               sleep=clock.sleep, clock=clock.clock)
    with pytest.raises(ConnectionFailedError, match="not a valid URL"):
        client.get_store()
    assert clock.slept == []
