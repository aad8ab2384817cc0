"""`manage.py itbc <subcommand>`: set up and run itbc without the browser.

Each app contributes its subcommands from its own `cli.py` through `register(subparsers)`; a
subcommand sets `handler` to a callable taking (command, options) that returns an exit code."""
import importlib

from django.core.management.base import BaseCommand, CommandError

CLI_MODULES = [
    "plugin.configuration.cli",
    "plugin.configuration.cli_demo",
    "plugin.configuration.cli_keys",
    "plugin.intellitrack.cli",
    "plugin.bigcommerce.cli",
    "plugin.sync.cli",
    "plugin.api.cli",
]


class Command(BaseCommand):
    help = "itbc administration: stores, configuration files, master data and jobs."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for module_name in CLI_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.register(subparsers, command=self)

    def handle(self, *args, **options):
        handler = options.get("handler")
        if handler is None:
            raise CommandError("Name a subcommand; see `manage.py itbc --help`.")
        from plugin.portal.jobqueue import JobQueueUnavailable, job_queue_check, queue_errors

        try:
            if options["subcommand"] in _job_subcommands():
                # Checked first, so an unreachable Redis or broker starts nothing (no run is recorded).
                job_queue_check()
            exit_code = handler(self, options)
        except queue_errors() as exc:
            detail = exc if isinstance(exc, JobQueueUnavailable) else JobQueueUnavailable(type(exc).__name__)
            self.stderr.write(str(detail))
            raise SystemExit(1) from None
        if exit_code:
            raise SystemExit(exit_code)


def _job_subcommands() -> set[str]:
    try:
        from plugin.sync.cli import COMMANDS
    except ImportError:
        return set()
    return set(COMMANDS)
