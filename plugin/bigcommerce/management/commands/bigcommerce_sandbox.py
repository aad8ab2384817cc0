"""`manage.py bigcommerce_sandbox`: run the sandbox BigCommerce store in the foreground.

The access token it accepts comes from $ITBC_SANDBOX_TOKEN or a file (--token-file), never from an
argument, so it does not show in the process list; without either a random one is printed."""
import json
import os
import secrets

from django.core.management.base import BaseCommand, CommandError

from plugin.bigcommerce.sandbox.faults import FaultConfig
from plugin.bigcommerce.sandbox.ratelimit import PLANS
from plugin.bigcommerce.sandbox.runner import sandbox_build, sandbox_run

TOKEN_ENV = "ITBC_SANDBOX_TOKEN"


def sandbox_token(token_file: str | None) -> str:
    """The token from --token-file, else $ITBC_SANDBOX_TOKEN, else a new random one."""
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read the token file {token_file}: {exc}") from exc
        if not token:
            raise CommandError(f"The token file {token_file} is empty.")
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or secrets.token_urlsafe(24)


class Command(BaseCommand):
    help = "Run a sandbox BigCommerce store (a stateful simulator over HTTP) until Ctrl-C or SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port.")
        parser.add_argument("--store-hash", default="sandbox1")
        parser.add_argument("--token-file", default=None, metavar="FILE",
                            help=f"File holding the access token to accept (else ${TOKEN_ENV}, else a random one).")
        parser.add_argument("--products", type=int, default=500, help="SKUs to generate (variants included).")
        parser.add_argument("--orders", type=int, default=100)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--plan", choices=sorted(PLANS), default="standard")
        parser.add_argument("--update-stock-behavior", choices=["order_placed", "order_completed_or_shipped"],
                            default="order_placed")
        parser.add_argument("--state", dest="state_file", default=None,
                            help="JSON file to load the store from (when it exists) and save it to.")
        parser.add_argument("--save-every", type=float, default=30.0, help="Seconds between saves of --state.")
        parser.add_argument("--fault-5xx-rate", type=float, default=0.0)
        parser.add_argument("--fault-delay-ms", type=int, default=0)
        parser.add_argument("--fault-delay-rate", type=float, default=1.0)
        parser.add_argument("--fault-drop-rate", type=float, default=0.0)
        parser.add_argument("--fault-malformed-rate", type=float, default=0.0)
        parser.add_argument("--fault-429-rate", type=float, default=0.0)
        parser.add_argument("--fault-429-reset-ms", type=int, default=300)
        parser.add_argument("--fault-rule", action="append", default=[], metavar="JSON",
                            help='A scripted fault, repeatable, e.g. \'{"method": "PUT", "path": '
                                 '"/v3/inventory/adjustments/absolute", "status": 500, "times": 2}\'.')

    def handle(self, *args, **options):
        if not 0 <= options["products"] <= 1_000_000 or not 0 <= options["orders"] <= 20_000:
            raise CommandError("--products goes up to 1000000 and --orders up to 20000.")
        try:
            rules = [json.loads(rule) for rule in options["fault_rule"]]
        except ValueError as exc:
            raise CommandError(f"--fault-rule takes a JSON object: {exc}") from exc
        try:
            faults = FaultConfig.from_dict({
                "rules": rules,
                "error_rate": options["fault_5xx_rate"], "delay_ms": options["fault_delay_ms"],
                "delay_rate": options["fault_delay_rate"], "drop_rate": options["fault_drop_rate"],
                "malformed_rate": options["fault_malformed_rate"], "storm_rate": options["fault_429_rate"],
                "storm_reset_ms": options["fault_429_reset_ms"], "seed": options["seed"],
            })
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        token = sandbox_token(options["token_file"])
        try:
            server = sandbox_build(
                host=options["host"], port=options["port"], store_hash=options["store_hash"], token=token,
                products=options["products"], orders=options["orders"], seed=options["seed"],
                plan=options["plan"], state_file=options["state_file"], faults=faults,
                update_stock_behavior=options["update_stock_behavior"],
            )
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}") from exc

        def announce(running):
            summary = running.state.summary()
            self.stdout.write(f"base_url {running.base_url}")
            self.stdout.write(f"store_hash {running.store_hash}")
            self.stdout.write(f"token {running.token}")
            self.stdout.write(f"Sandbox store ready: {summary['products']} products, {summary['variants']} variants, "
                              f"{summary['orders']} orders, plan {running.limiter.plan}. Ctrl-C stops it.")
            self.stdout.flush()

        sandbox_run(server, state_file=options["state_file"], save_every_s=options["save_every"], announce=announce)
        self.stdout.write("Sandbox store stopped.")
