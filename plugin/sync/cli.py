"""`manage.py itbc import-products|import-inventory|import-carriers|import-orders|export-fulfillments|
export-adjustments|sync-cycle|eod|bootstrap --store NAME`.

Each runs the job in this process, prints a summary with the run id, and exits 0 when the run
succeeded, 3 when it was partial (some items failed) and 1 when it failed or could not start.
`--dry-run` is for `eod` only: the imports refuse it with exit code 2 (they write to IntelliTrack only)."""
from datetime import date

from django.db import models

from .jobs.context import PrerequisiteMissing
from .models import SyncRun
from .runs import RunInProgress
from .services import job_dry_run_refused, job_trigger, run_execute

EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_PARTIAL = 0, 1, 2, 3
IMPORT_DRY_RUN_HELP = "Refused (exit code 2): imports write to IntelliTrack only; a dry run is for the End of Day export."

COMMANDS = {
    "import-products": (SyncRun.Job.IMPORT_PRODUCTS, "Import products from BigCommerce into IntelliTrack items."),
    "import-inventory": (SyncRun.Job.IMPORT_INVENTORY, "Import stock from BigCommerce into IntelliTrack."),
    "import-carriers": (SyncRun.Job.IMPORT_CARRIERS, "Import carriers and shipping methods from BigCommerce."),
    "import-orders": (SyncRun.Job.IMPORT_ORDERS, "Import store orders as IntelliTrack picking orders."),
    "export-fulfillments": (SyncRun.Job.EXPORT_FULFILLMENTS,
                            "Send picks as store shipments (IntelliTrack -> BigCommerce)."),
    "export-adjustments": (SyncRun.Job.EXPORT_ADJUSTMENTS,
                           "Send stock adjustments to the store (IntelliTrack -> BigCommerce)."),
    "sync-cycle": (SyncRun.Job.AUTO_SYNC,
                   "Run one auto sync cycle now: import orders, export fulfillments, export adjustments."),
    "eod": (SyncRun.Job.EOD_EXPORT, "Send the End of Day stock snapshot (IntelliTrack -> BigCommerce)."),
    "bootstrap": (SyncRun.Job.BOOTSTRAP, "Import products, then inventory, then carriers."),
}


def register(subparsers, command):
    for name, (job, help_text) in COMMANDS.items():
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--store", required=True, metavar="NAME")
        parser.add_argument("--dry-run", action="store_true",
                            help="Compute the levels and show the drift, write nothing to BigCommerce."
                            if job == SyncRun.Job.EOD_EXPORT else IMPORT_DRY_RUN_HELP)
        if job in (SyncRun.Job.IMPORT_INVENTORY, SyncRun.Job.BOOTSTRAP):
            parser.add_argument("--overwrite", action="store_true",
                                help="Confirmed: replace stock IntelliTrack already holds at the default location.")
        if job == SyncRun.Job.IMPORT_ORDERS:
            parser.add_argument("--from", dest="min_date_created", type=date.fromisoformat, metavar="YYYY-MM-DD",
                                help="Back-fill: orders created on or after this date.")
            parser.add_argument("--to", dest="max_date_created", type=date.fromisoformat, metavar="YYYY-MM-DD",
                                help="Back-fill: orders created on or before this date.")
        parser.set_defaults(handler=_handler(job))


def _handler(job):
    def handle(command, options):
        return job_command(command, options, job=job)

    return handle


def job_command(command, options, *, job: str) -> int:
    from plugin.configuration.models import StoreConnection

    store = StoreConnection.objects.filter(name=options["store"]).first()
    if store is None:
        command.stderr.write(f"No store named {options['store']!r}. `manage.py itbc store list` shows them.")
        return EXIT_FAILED
    refused = job_dry_run_refused(job=job, dry_run=options["dry_run"])
    if refused:
        command.stderr.write(refused)
        return EXIT_REFUSED
    run_options = {}
    if options.get("overwrite"):
        run_options["overwrite"] = True
    for name in ("min_date_created", "max_date_created"):
        if options.get(name):
            run_options[name] = options[name].isoformat()
    try:
        run = job_trigger(store=store, job=job, trigger=SyncRun.Trigger.COMMAND, dry_run=options["dry_run"],
                          options=run_options, enqueue=False)
    except (PrerequisiteMissing, RunInProgress) as exc:
        command.stderr.write(str(exc))
        return EXIT_FAILED
    finished = run_execute(run_id=run.pk) or SyncRun.objects.get(pk=run.pk)
    command.stdout.write(run_summary_text(finished))
    if finished.status == SyncRun.Status.SUCCEEDED:
        return EXIT_OK
    if finished.status == SyncRun.Status.PARTIAL:
        return EXIT_PARTIAL
    return EXIT_FAILED


def run_summary_text(run: SyncRun) -> str:
    lines = [
        f"Run #{run.pk}: {run.get_job_display()}, store {run.store.name}",
        f"Status: {run.get_status_display()}" + (" (dry run)" if run.dry_run or run.summary.get("dry_run") else ""),
        f"Items: {run.processed} processed, {run.succeeded_count} ok, {run.failed_count} failed, "
        f"{run.skipped_count} skipped",
    ]
    for key, value in sorted((run.summary or {}).items()):
        lines.append(f"  {key}: {_display(value)}")
    if run.error:
        lines.append(f"Error: {run.error}")
    return "\n".join(lines)


JOB_LABELS = dict(SyncRun.Job.choices)


def _display(value) -> str:
    """A summary value as people read it: jobs (and other choices) by their label, never a Python repr.
    A job's entry ({job: run id}, as bootstrap's steps) names its run."""
    if isinstance(value, models.Choices):
        return str(value.label)
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if str(key) in JOB_LABELS:
                parts.append(f"{JOB_LABELS[str(key)]}: " + (f"run #{item}" if type(item) is int else _display(item)))
            else:
                parts.append(f"{_display(key)}: {_display(item)}")
        return "; ".join(parts)
    if isinstance(value, list | tuple):
        return ", ".join(_display(item) for item in value)
    return str(value)
