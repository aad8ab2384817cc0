"""`make run` (scripts/run_portal.py): a port that is already taken stops it before anything is written or
started, with a message naming the port, what wanted it and the variable that moves it; and a server
that is not the one it started is never reported as ready."""
import importlib.util
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "run_portal.py"
HAVE_PROC = Path("/proc/net/tcp").exists()


def load_script():
    spec = importlib.util.spec_from_file_location("run_portal_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def busy_port():
    """A port someone else listens on, as another developer's server would."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"someone else's server"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def foreign_http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def script(tmp_path, monkeypatch):
    """The script's module, with its .env and var/ in a temporary folder and every manage.py call recorded
    instead of run (migrate, seed-demo, demo-admin...)."""
    module = load_script()
    monkeypatch.setattr(module, "ENV_FILE", tmp_path / ".env")
    monkeypatch.setattr(module, "VAR", tmp_path / "var")
    calls = []
    monkeypatch.setattr(module, "manage", lambda *args, **kwargs: calls.append(args))
    monkeypatch.setattr(module.subprocess, "Popen", lambda *args, **kwargs: calls.append(("Popen", args)))
    module.manage_calls = calls
    return module


@pytest.mark.parametrize("taken,variable,wanted_by", [
    ("web", "ITBC_PORT", "web server"),
    ("sandbox", "ITBC_SANDBOX_PORT", "sandbox store"),
])
def test_a_taken_port_stops_make_run_before_anything_is_written(
    script, busy_port, monkeypatch, capsys, tmp_path, taken, variable, wanted_by
):
    other = free_port()
    monkeypatch.setenv("ITBC_PORT", str(busy_port if taken == "web" else other))
    monkeypatch.setenv("ITBC_SANDBOX_PORT", str(busy_port if taken == "sandbox" else other))

    assert script.main() == 2

    out = capsys.readouterr().out
    assert f"port {busy_port} on 127.0.0.1 is already taken" in out
    assert f"the {wanted_by} needs it" in out
    assert f"choose another port with {variable}" in out
    assert f"{variable}=" in out.split("for example:")[1]
    if HAVE_PROC:
        assert f"by pid {os.getpid()}" in out  # this test process holds it
    # Nothing ran: no migrate, no seed, no demo admin (its one-time password is still to come), no server.
    assert script.manage_calls == []
    assert not (tmp_path / ".env").exists()
    assert not (tmp_path / "var").exists()
    assert "portal ready" not in out


def test_the_same_port_for_both_servers_is_refused(script, monkeypatch, capsys):
    port = free_port()
    monkeypatch.setenv("ITBC_PORT", str(port))
    monkeypatch.setenv("ITBC_SANDBOX_PORT", str(port))
    assert script.main() == 2
    assert f"both want port {port}: set ITBC_SANDBOX_PORT to another port" in capsys.readouterr().out
    assert script.manage_calls == []


def test_free_ports_pass_the_check():
    module = load_script()
    needs = [module.PortNeed(free_port(), "web server", "ITBC_PORT")]
    assert module.port_problems(needs) == []


def test_the_real_script_exits_non_zero_and_creates_no_admin(busy_port, tmp_path):
    """The whole script as `make run` starts it: the admin login (and its printed password) is not
    spent on a start that cannot work, and no database is even opened."""
    database = tmp_path / "portal.sqlite3"
    env = {
        **os.environ,
        "ITBC_PORT": str(busy_port),
        "ITBC_SANDBOX_PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": "",
    }
    result = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60,
                            cwd=settings.BASE_DIR)
    assert result.returncode != 0
    assert f"port {busy_port} on 127.0.0.1 is already taken" in result.stdout
    assert "ITBC_PORT" in result.stdout
    assert "password" not in result.stdout.lower()
    assert "portal ready" not in result.stdout
    assert not database.exists()


@pytest.mark.skipif(not HAVE_PROC, reason="needs /proc to tell which process holds a port")
def test_another_server_answering_on_the_port_is_not_ours(foreign_http_server):
    module = load_script()
    # Our "server" is alive but holds no socket: the answer on the port comes from someone else.
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        url = f"http://127.0.0.1:{foreign_http_server}/"
        assert module.wait_until_serving(ours, foreign_http_server, url, seconds=2) is False
    finally:
        ours.kill()
        ours.wait()


def test_a_started_server_that_exits_is_not_ready(foreign_http_server):
    module = load_script()
    # As runserver does when the port was taken between the check and its start.
    ours = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    url = f"http://127.0.0.1:{foreign_http_server}/"
    assert module.wait_until_serving(ours, foreign_http_server, url, seconds=20) is False
    assert ours.poll() == 1


def test_our_own_server_is_ready_once_it_answers():
    module = load_script()
    port = free_port()
    ours = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert module.wait_until_serving(ours, port, f"http://127.0.0.1:{port}/", seconds=20) is True
    finally:
        ours.terminate()
        ours.wait(timeout=10)


def test_two_taken_ports_get_two_different_suggestions():
    module = load_script()
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        first.listen()
        second.bind(("127.0.0.1", 0))
        second.listen()
        problems = module.port_problems([
            module.PortNeed(first.getsockname()[1], "web server", "ITBC_PORT"),
            module.PortNeed(second.getsockname()[1], "sandbox store", "ITBC_SANDBOX_PORT"),
        ])
    assert len(problems) == 2
    suggested = [problem.split("for example: ")[1].split("=")[1].split()[0] for problem in problems]
    assert suggested[0] != suggested[1]


def test_a_failing_step_after_the_servers_started_stops_them_and_creates_no_admin(tmp_path, monkeypatch, capsys):
    """The demo store step fails (as with a database that is not migrated): the sandbox store already runs
    and must not be left behind, and the admin login is not created."""
    module = load_script()
    monkeypatch.setattr(module, "ENV_FILE", tmp_path / ".env")
    monkeypatch.setattr(module, "VAR", tmp_path / "var")
    monkeypatch.setattr(module.signal, "signal", lambda *args: None)  # leave pytest's handlers alone
    monkeypatch.setattr(module, "wait_until_serving", lambda *args, **kwargs: True)
    monkeypatch.setenv("ITBC_PORT", str(free_port()))
    monkeypatch.setenv("ITBC_SANDBOX_PORT", str(free_port()))
    steps, children = [], []
    real_popen = subprocess.Popen

    def manage(*args, **kwargs):
        steps.append(args[:2])
        if args[:2] == ("itbc", "demo-store"):
            raise subprocess.CalledProcessError(1, ["manage.py", *args])

    def popen(args, **kwargs):
        # A stand-in server that stays up until it is stopped.
        child = real_popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
        children.append(child)
        return child

    monkeypatch.setattr(module, "manage", manage)
    monkeypatch.setattr(module.subprocess, "Popen", popen)

    with pytest.raises(SystemExit) as stopped:
        module.main()

    assert stopped.value.code == 1
    assert ("itbc", "demo-admin") not in steps
    assert len(children) == 1  # the sandbox store; the web server never started
    assert children[0].poll() is not None
    out = capsys.readouterr().out
    assert "`manage.py itbc demo-store` failed with code 1; stopping the rest" in out
    assert "portal ready" not in out
