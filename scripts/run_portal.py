"""`make run`: set up and start the whole portal on a workstation.

Writes `.env` with fresh secrets on the first start, migrates, loads demo master data, creates an
admin login (printed once), starts the sandbox store with a demo catalog, the web server and one
Celery worker with embedded beat. Ctrl-C stops every process it started."""
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
ENV_FILE = ROOT / ".env"
PYTHON = sys.executable
SANDBOX_STORE_HASH = "demo1234"


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


def wait_for_http(url: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # it answers; a 401/404 is still an answer
        except OSError:
            time.sleep(0.3)
    return False


def main() -> int:
    VAR.mkdir(exist_ok=True)
    env_values = ensure_env_file()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "itbc_portal.settings.local", "PYTHONUNBUFFERED": "1"}
    options = {**env_values, **os.environ}  # the environment wins over .env, as in the settings
    web_port = int(options.get("ITBC_PORT") or 8000)
    sandbox_port = int(options.get("ITBC_SANDBOX_PORT") or 8765)
    sandbox_products = int(options.get("ITBC_SANDBOX_PRODUCTS") or 500)
    for folder in ("queue", "control", "processed"):
        (VAR / "celery" / folder).mkdir(parents=True, exist_ok=True)

    say("database: " + ("DATABASE_URL" if options.get("DATABASE_URL") else "embedded SQLite in var/"))
    say("broker: " + ("REDIS_URL" if options.get("REDIS_URL") else "embedded filesystem:// in var/celery/"))
    manage("migrate", "--noinput", "-v0", env=env)
    manage("itbc", "seed-demo", env=env)
    manage("itbc", "demo-admin", env=env)

    children: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, args: list[str], env: dict = env) -> subprocess.Popen:
        # Each child leads its own process group, so Ctrl-C reaches only this script, which then
        # stops every child in order instead of leaving orphans behind.
        process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
        children.append((name, process))
        return process

    def stop_all(*_):
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
        sys.exit(0)

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)

    sandbox_token = env_values["ITBC_SANDBOX_TOKEN"]
    start(
        "sandbox store",
        [PYTHON, "manage.py", "bigcommerce_sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port),
         "--store-hash", SANDBOX_STORE_HASH, "--products", str(sandbox_products),
         "--seed", "1", "--state", str(VAR / "sandbox-state.json")],
        env={**env, "ITBC_SANDBOX_TOKEN": sandbox_token},  # never on the command line (ps shows it)
    )
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    if not wait_for_http(f"{sandbox_url}/stores/{SANDBOX_STORE_HASH}/v2/time"):
        say("the sandbox store did not start")
        stop_all()
    manage("itbc", "demo-store", "--api-url", sandbox_url, "--store-hash", SANDBOX_STORE_HASH,
           env={**env, "BIGCOMMERCE_ACCESS_TOKEN": sandbox_token})

    start("web server", [PYTHON, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"])
    start("worker with embedded beat", [PYTHON, "-m", "celery", "-A", "itbc_portal", "worker", "-B",
                                         "--loglevel", "INFO", "--concurrency", "2",
                                         "--schedule", str(VAR / "celerybeat-schedule")])
    if wait_for_http(f"http://127.0.0.1:{web_port}/accounts/login/"):
        say(f"portal ready: http://127.0.0.1:{web_port}/  (Ctrl-C stops everything)")

    while True:
        for name, process in children:
            if process.poll() is not None:
                say(f"{name} exited with code {process.returncode}; stopping the rest")
                stop_all()
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
