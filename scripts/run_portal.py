"""`make run`: set up and start the whole portal on a workstation.

First checks that the ports it needs are free, and stops with a message naming the port and the
variable that moves it when one is taken: before anything is written. Then writes `.env` with fresh
secrets on the first start, migrates, loads demo master data, starts the sandbox store with a demo
catalog, the web server and one Celery worker with embedded beat, and once the web server it started
answers (its own process holds the port), creates the admin login (its password printed once) and says
"portal ready". Ctrl-C stops every process it started."""
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
ENV_FILE = ROOT / ".env"
PYTHON = sys.executable
SANDBOX_STORE_HASH = "demo1234"
LOOPBACK = "127.0.0.1"


def say(message: str) -> None:
    print(f"[itbc] {message}", flush=True)


def read_env_file() -> dict[str, str]:
    values = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def ensure_env_file() -> dict[str, str]:
    """First start: fresh secrets in .env (kept out of git), so nothing secret lives in the code. A key
    present but empty (a copied .env.example) is filled in where it stands."""
    values = read_env_file()
    wanted = {
        "DJANGO_SECRET_KEY": lambda: secrets.token_urlsafe(50),
        "ITBC_ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
        "ITBC_SANDBOX_TOKEN": lambda: secrets.token_hex(16),
    }
    missing = {key: make() for key, make in wanted.items() if not values.get(key)}
    if missing:
        lines = ENV_FILE.read_text().splitlines() if ENV_FILE.exists() else []
        for index, line in enumerate(lines):
            key = line.split("=", 1)[0].strip()
            if "=" in line and key in missing and not line.lstrip().startswith("#"):
                lines[index] = f"{key}={missing[key]}"
        written = {line.split("=", 1)[0].strip() for line in lines if "=" in line}
        lines += [f"{key}={value}" for key, value in missing.items() if key not in written]
        ENV_FILE.write_text("\n".join(lines) + "\n")
        values.update(missing)
        say(f"wrote fresh {', '.join(missing)} to .env")
    return values


def manage(*args: str, env: dict[str, str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=check, **kwargs)


@dataclass(frozen=True)
class PortNeed:
    port: int
    wanted_by: str  # what listens there once started
    variable: str  # the setting that moves it


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    """True when something listens on host:port: a bind fails, or a connection is accepted."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # A port left in TIME_WAIT by a server that just stopped is free to take again.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on `port` (any address), from /proc/net/tcp{,6}; empty without /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def _process_socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    except OSError:
        pass  # gone, or another user's process
    return inodes


def process_listens_on(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds the listening socket of `port`; None where /proc cannot tell."""
    if not Path("/proc/net/tcp").exists():
        return None
    return bool(_listening_inodes(port) & _process_socket_inodes(pid))


def port_holder(port: int) -> str:
    """Best effort: "pid 1234 (python manage.py runserver ...)" of the process listening on `port`."""
    inodes = _listening_inodes(port)
    if not inodes:
        return ""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and inodes & _process_socket_inodes(int(proc.name)):
            try:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                command = ""
            return f"pid {proc.name}" + (f" ({command[:100]})" if command else "")
    return ""


def free_port_after(port: int, avoid: set[int]) -> int | None:
    for candidate in range(port + 1, min(port + 100, 65535)):
        if candidate not in avoid and not port_in_use(candidate):
            return candidate
    return None


def port_problems(needs: list[PortNeed]) -> list[str]:
    """What stops `make run` from listening where it must, one sentence per taken or clashing port,
    each naming the variable that moves it."""
    problems = []
    seen: dict[int, PortNeed] = {}
    avoid = {need.port for need in needs}  # and each port already suggested
    for need in needs:
        if not 1 <= need.port <= 65535:
            problems.append(f"{need.variable}={need.port} is no port: choose one from 1024 to 65535.")
            continue
        if need.port in seen:
            problems.append(f"the {need.wanted_by} and the {seen[need.port].wanted_by} both want port {need.port}: "
                            f"set {need.variable} to another port.")
            continue
        seen[need.port] = need
        if port_in_use(need.port):
            holder = port_holder(need.port)
            held = f" by {holder}" if holder else " by another program"
            suggestion = free_port_after(need.port, avoid)
            avoid.add(suggestion)
            example = f"{need.variable}={suggestion} make run" if suggestion else f"{need.variable}=<port> make run"
            problems.append(
                f"port {need.port} on {LOOPBACK} is already taken{held}; the {need.wanted_by} needs it. "
                f"Stop that program, or choose another port with {need.variable} (in the environment or "
                f"in .env), for example: {example}"
            )
    return problems


def wait_until_serving(process: subprocess.Popen, port: int, url: str, seconds: float = 60) -> bool:
    """True once `url` answers and the listening socket on `port` is the started process's own (where
    /proc tells), so another server that answers on that port is never taken for ours. False as soon as
    the process exits, or when the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                answered = True
        except urllib.error.HTTPError:
            answered = True  # it answers; a 401/404 is still an answer
        except OSError:
            answered = False
        if answered and process_listens_on(process.pid, port) is not False and process.poll() is None:
            return True
        time.sleep(0.3)
    return False


def main() -> int:
    # Read-only until the ports are known to be free: a failed start writes and spends nothing.
    options = {**read_env_file(), **os.environ}  # the environment wins over .env, as in the settings
    try:
        web_port = int(options.get("ITBC_PORT") or 8000)
        sandbox_port = int(options.get("ITBC_SANDBOX_PORT") or 8765)
        sandbox_products = int(options.get("ITBC_SANDBOX_PRODUCTS") or 500)
    except ValueError as error:
        say(f"ITBC_PORT, ITBC_SANDBOX_PORT and ITBC_SANDBOX_PRODUCTS take whole numbers: {error}")
        return 2
    problems = port_problems([
        PortNeed(web_port, "web server", "ITBC_PORT"),
        PortNeed(sandbox_port, "sandbox store", "ITBC_SANDBOX_PORT"),
    ])
    if problems:
        for problem in problems:
            say(f"cannot start: {problem}")
        say("nothing was started or changed (no admin login was created).")
        return 2

    VAR.mkdir(exist_ok=True)
    env_values = ensure_env_file()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.local", "PYTHONUNBUFFERED": "1"}
    for folder in ("queue", "control", "processed"):
        (VAR / "celery" / folder).mkdir(parents=True, exist_ok=True)

    say("database: " + ("DATABASE_URL" if options.get("DATABASE_URL") else "embedded SQLite in var/"))
    say("broker: " + ("REDIS_URL" if options.get("REDIS_URL") else "embedded filesystem:// in var/celery/"))
    say("DEBUG " + ("on (DJANGO_DEBUG)" if options.get("DJANGO_DEBUG", "").lower() in ("1", "true", "yes", "y", "on", "ok")
                    else "off (DJANGO_DEBUG=true turns it on)"))
    manage("migrate", "--noinput", "-v0", env=env)
    manage("itbc", "seed-demo", env=env)

    children: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, args: list[str], env: dict = env) -> subprocess.Popen:
        # Each child leads its own process group, so Ctrl-C reaches only this script, which then
        # stops every child in order instead of leaving orphans behind.
        process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
        children.append((name, process))
        return process

    def stop_all(*_, code: int = 0):
        # SIGTERM to each leader lets it shut down warmly (Celery finishes its task, the sandbox
        # saves its state); whatever is left of a group after the wait is killed outright.
        for name, process in reversed(children):
            if process.poll() is None:
                say(f"stopping {name}")
                process.terminate()
        for name, process in reversed(children):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in time; killing it")
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        say("all stopped")
        sys.exit(code)

    def manage_or_stop(*args: str, env: dict) -> None:
        # Once servers run, a failed step stops them too instead of leaving them behind.
        try:
            manage(*args, env=env)
        except subprocess.CalledProcessError as error:
            say(f"`manage.py {' '.join(args[:2])}` failed with code {error.returncode}; stopping the rest")
            stop_all(code=1)

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)

    sandbox_token = env_values["ITBC_SANDBOX_TOKEN"]
    sandbox = start(
        "sandbox store",
        [PYTHON, "manage.py", "bigcommerce_sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port),
         "--store-hash", SANDBOX_STORE_HASH, "--products", str(sandbox_products),
         "--seed", "1", "--state", str(VAR / "sandbox-state.json")],
        env={**env, "ITBC_SANDBOX_TOKEN": sandbox_token},  # never on the command line (ps shows it)
    )
    sandbox_url = f"http://{LOOPBACK}:{sandbox_port}"
    if not wait_until_serving(sandbox, sandbox_port, f"{sandbox_url}/stores/{SANDBOX_STORE_HASH}/v2/time"):
        say(f"the sandbox store did not start on port {sandbox_port} (ITBC_SANDBOX_PORT chooses another)")
        stop_all(code=1)
    manage_or_stop("itbc", "demo-store", "--api-url", sandbox_url, "--store-hash", SANDBOX_STORE_HASH,
                   env={**env, "BIGCOMMERCE_ACCESS_TOKEN": sandbox_token})

    web = start("web server", [PYTHON, "manage.py", "runserver", f"{LOOPBACK}:{web_port}", "--noreload"])
    # One worker consumes every queue (End of Day, cycles, imports, the rest: plugin/sync/queues.py).
    start("worker with embedded beat", [PYTHON, "-m", "celery", "-A", "itbc_portal", "worker", "-B",
                                         "-Q", "eod,cycle,imports,celery",
                                         "--loglevel", "INFO", "--concurrency", "2",
                                         "--schedule", str(VAR / "celerybeat-schedule")])
    if not wait_until_serving(web, web_port, f"http://{LOOPBACK}:{web_port}/accounts/login/"):
        say(f"the web server did not start on port {web_port} (ITBC_PORT chooses another)")
        stop_all(code=1)
    # Only now, with our own server answering: the one-time password is printed beside "portal ready".
    manage_or_stop("itbc", "demo-admin", env=env)
    say(f"portal ready: http://{LOOPBACK}:{web_port}/  (Ctrl-C stops everything)")

    while True:
        for name, process in children:
            if process.poll() is not None:
                say(f"{name} exited with code {process.returncode}; stopping the rest")
                stop_all(code=1)
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
