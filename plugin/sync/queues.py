"""Which Celery queue each kind of work goes to, so a burst of one kind never waits behind another:
End of Day snapshots, auto sync cycles with their short jobs, long imports, and the default queue for
the periodic checks. Workers subscribe with `-Q`; one embedded worker consumes them all."""

EOD = "eod"
CYCLE = "cycle"
IMPORTS = "imports"
DEFAULT = "celery"
ALL = (EOD, CYCLE, IMPORTS, DEFAULT)

# Job kinds (SyncRun.Job values) by queue. Webhook-driven work runs as an auto sync cycle.
JOB_QUEUES = {
    "eod_export": EOD,
    "auto_sync": CYCLE,
    "export_adjustments": CYCLE,
    "export_fulfillments": CYCLE,
    "import_carriers": CYCLE,
    "bootstrap": IMPORTS,
    "import_products": IMPORTS,
    "import_inventory": IMPORTS,
    "import_orders": IMPORTS,
}

# Tasks beat fires by name, with the store as their only argument.
TASK_QUEUES = {
    "itbc.sync.eod_export": EOD,
    "itbc.sync.auto_sync": CYCLE,
}

RUN_JOB_TASK = "itbc.sync.run_job"


def queue_for_job(job: str) -> str:
    return JOB_QUEUES.get(job, DEFAULT)


def route_task(name, args, kwargs, options, task=None, **kw):
    """Celery router (CELERY_TASK_ROUTES): a run's task goes by its job kind, passed as the `job`
    keyword; beat's store tasks by name; everything else to the default queue."""
    if name == RUN_JOB_TASK:
        return {"queue": queue_for_job((kwargs or {}).get("job", ""))}
    return {"queue": TASK_QUEUES.get(name, DEFAULT)}
