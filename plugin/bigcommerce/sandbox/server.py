"""The sandbox store over real HTTP: a ThreadingHTTPServer that can run in a background thread.

    server = SandboxServer(state=generate(products=200, orders=50, seed=1)).start()
    server.base_url     # "http://127.0.0.1:PORT": what a store connection's API base URL holds
    server.store_hash, server.token
    server.stop()

Requests under /stores/{hash}/v2|v3/ go through: store hash (404) -> token (401) -> quota (429) ->
injected faults -> the handler. /_sandbox/ holds the shopper and staff actions and needs no token."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .app import JSON, BadRequest, Reply, SandboxApp
from .faults import FaultConfig, FaultInjector
from .ratelimit import RateLimiter
from .state import SandboxError, StoreState

STORE_PATH = re.compile(r"^/stores/(?P<hash>[^/]+)(?P<rest>/(?P<version>v2|v3)(?:/.*)?)$")
SANDBOX_ORDER_STATUS = re.compile(r"^/_sandbox/orders/(?P<order_id>\d+)/status/?$")


class SandboxServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, state: StoreState | None = None, *,
                 token: str = "sandbox-token", store_hash: str = "sandbox1", plan: str = "standard",
                 faults: FaultConfig | dict | None = None, quota: int | None = None, window_ms: int | None = None,
                 state_factory=None):
        if state is None:
            from .generator import generate

            state_factory = state_factory or (lambda: generate(products=200, orders=50, seed=1))
            state = state_factory()
        self.state = state
        self.state_factory = state_factory
        self.token = token
        self.store_hash = store_hash
        self.limiter = RateLimiter(plan, quota=quota, window_ms=window_ms)
        if isinstance(faults, dict):
            faults = FaultConfig.from_dict(faults)
        self.faults = FaultInjector(faults)
        self.app = SandboxApp(state, store_hash=store_hash, token=token)
        self.requests_served = 0
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.sandbox = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._httpd.server_address[0]

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def store_url(self) -> str:
        return f"{self.base_url}/stores/{self.store_hash}"

    def start(self) -> SandboxServer:
        # a short poll interval makes stop() quick (shutdown waits for the loop to notice)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="bigcommerce-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def add_fault_rule(self, rule: dict | None = None, **fields) -> dict:
        """Script a fault at run time, e.g. `add_fault_rule(method="PUT",
        path="/v3/inventory/adjustments/absolute", status=500, times=2)` (see faults.py)."""
        return self.faults.add_rule(rule, **fields)

    def reset(self) -> None:
        """Back to a freshly generated store (same object, so references held by tests stay valid)."""
        if self.state_factory is None:
            raise SandboxError(409, "This sandbox was started with a given state and has no generator to reset from.")
        fresh = self.state_factory()
        with self.state.lock:
            for name, value in vars(fresh).items():
                if name != "lock":
                    setattr(self.state, name, value)
        self.limiter.reset()

    # ----- request pipeline --------------------------------------------------------------------
    def dispatch(self, method: str, target: str, headers, body: bytes):
        """Return (Reply, fault plan or None)."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path
        if path.startswith("/_sandbox/"):
            return self._sandbox_action(method, path, query, body), None
        match = STORE_PATH.match(path)
        if not match:
            return Reply(404, {"status": 404, "title": "The requested resource was not found.", "type": "",
                               "errors": {}}), None
        version = match["version"]
        rest = match["rest"]
        if match["hash"] != self.store_hash:
            reply = self.app.error(version, 404, "The requested store was not found.", {}, rest)
            reply.headers.update(self.limiter.peek())
            return reply, None
        if headers.get("X-Auth-Token") != self.token:
            reply = self.app.error(version, 401, "You are not authorized to access this resource.", {}, rest)
            if version == "v3":
                reply.content_type = JSON
                reply.body.pop("errors", None)  # the specs' 401 body is status, title and type
            reply.headers.update(self.limiter.peek())
            return reply, None
        allowed, limit_headers = self.limiter.take()
        if not allowed:
            reply = self.app.error(version, 429, "Too many requests; the quota is used up until the window resets.",
                                   {}, rest)
            reply.headers.update(limit_headers)
            reply.headers["X-Retry-After"] = str(max(1, -(-int(limit_headers["X-Rate-Limit-Time-Reset-Ms"]) // 1000)))
            return reply, None
        plan = self.faults.plan(method, rest.split("?", 1)[0])
        if plan.error_status is not None:
            reply = self.app.error(version, plan.error_status, "The store could not answer (injected fault).", {}, rest)
            reply.headers.update(limit_headers)
            return reply, plan
        if plan.storm:
            reply = self.app.error(version, 429, "Too many requests (injected storm).", {}, rest)
            reply.headers.update(limit_headers)
            reply.headers["X-Rate-Limit-Requests-Left"] = "0"
            reply.headers["X-Rate-Limit-Time-Reset-Ms"] = str(self.faults.config.storm_reset_ms)
            reply.headers["X-Retry-After"] = "1"
            return reply, plan
        reply = self.app.handle_store(method, rest, query, body)
        reply.headers.update(limit_headers)
        return reply, plan

    def _sandbox_action(self, method: str, path: str, query: dict, body: bytes) -> Reply:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return Reply(400, {"error": "The request body is not valid JSON."})
        state = self.state
        try:
            if path.rstrip("/") == "/_sandbox/state-summary" and method == "GET":
                summary = state.summary()
                summary.update(store_hash=self.store_hash, plan=self.limiter.plan, quota=self.limiter.quota,
                               rate_limited=self.limiter.refused, faults=self.faults.config.to_dict(),
                               faults_injected=dict(self.faults.counts), fault_rules_used=self.faults.rules_used(),
                               requests_served=self.requests_served)
                return Reply(200, summary)
            if path.rstrip("/") == "/_sandbox/orders" and method == "POST":
                order = state.place_order(items=payload.get("items") or [], status_id=payload.get("status_id", 11),
                                          customer_id=payload.get("customer_id", 0), address=payload.get("address"),
                                          allow_oversell=bool(payload.get("allow_oversell", False)),
                                          channel_id=payload.get("channel_id", 1))
                return Reply(201, {"id": order.id, "status_id": order.status_id, "channel_id": order.channel_id,
                                   "order_address_id": order.addresses[0].id,
                                   "products": [{"id": line.id, "sku": line.sku, "product_id": line.product_id,
                                                 "variant_id": line.variant_id, "quantity": line.quantity}
                                                for line in order.products]})
            status_match = SANDBOX_ORDER_STATUS.match(path)
            if status_match and method == "POST":
                order = state.set_order_status(int(status_match["order_id"]), payload.get("status_id"))
                return Reply(200, {"id": order.id, "status_id": order.status_id})
            if path.rstrip("/") == "/_sandbox/stock" and method == "POST":
                items = payload.get("items")
                if items is None:
                    items = [{"location_id": 1, **payload}]
                relative = bool(query.get("relative") in ("1", "true"))
                transaction_id = state.adjust_inventory(items, relative=relative)
                return Reply(200, {"transaction_id": transaction_id})
            if path.rstrip("/") == "/_sandbox/faults":
                if method == "POST":
                    if not isinstance(payload, dict):
                        return Reply(400, {"error": "The fault options must be an object."})
                    self.faults.configure(FaultConfig.from_dict(payload, base=self.faults.config),
                                          keep_rules="rules" not in payload)
                elif method != "GET":
                    return Reply(405, {"error": "Use GET or POST."})
                return Reply(200, self.faults.config.to_dict())
            if path.rstrip("/") == "/_sandbox/reset" and method == "POST":
                self.reset()
                return Reply(200, state.summary())
        except SandboxError as exc:
            return Reply(exc.status, {"error": exc.title, "errors": exc.errors})
        except (ValueError, TypeError, BadRequest) as exc:
            return Reply(400, {"error": str(exc)})
        return Reply(404, {"error": f"No sandbox action {method} {path}."})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "itbc-sandbox"
    sys_version = ""

    def setup(self):
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms per answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # keep test and benchmark output quiet
        pass

    def _serve(self, method: str) -> None:
        sandbox: SandboxServer = self.server.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            reply, plan = sandbox.dispatch(method, self.path, self.headers, body)
        except Exception:  # a sandbox bug must still answer like a server, not hang the client
            reply, plan = Reply(500, {"status": 500, "title": "Sandbox internal error", "type": "", "errors": {}}), None
        sandbox.requests_served += 1
        if plan is not None and plan.delay_s:
            time.sleep(plan.delay_s)
        if plan is not None and plan.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        payload = reply.encode()
        if plan is not None and plan.malformed and payload:
            payload = payload[: max(1, len(payload) // 2)]
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def do_GET(self):
        self._serve("GET")

    def do_PUT(self):
        self._serve("PUT")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")
