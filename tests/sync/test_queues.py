"""Queues: End of Day, auto sync cycles with their short jobs, long imports, and the default queue, routed
by the settings' router from the job kind a run's task carries."""
import pytest
from celery import current_app
from kombu import pools

from itbc_portal.celery import app
from plugin.configuration.schedules import AUTO_SYNC_TASK, EOD_EXPORT_TASK
from plugin.sync import queues, retention, tasks
from plugin.sync.models import SyncRun
from plugin.sync.services import RUN_JOB_TASK, job_trigger

Job = SyncRun.Job


def routed_queue(name, args=(), kwargs=None) -> str:
    return app.amqp.router.route({}, name, args, kwargs or {})["queue"].name


def test_every_job_kind_has_its_queue():
    assert set(queues.JOB_QUEUES) == set(Job.values)
    expected = {
        Job.EOD_EXPORT: "eod",
        Job.AUTO_SYNC: "cycle", Job.EXPORT_ADJUSTMENTS: "cycle", Job.EXPORT_FULFILLMENTS: "cycle",
        Job.IMPORT_CARRIERS: "cycle",
        Job.BOOTSTRAP: "imports", Job.IMPORT_PRODUCTS: "imports", Job.IMPORT_INVENTORY: "imports",
        Job.IMPORT_ORDERS: "imports",
    }
    for job, queue in expected.items():
        assert routed_queue(RUN_JOB_TASK, (1,), {"job": job}) == queue, job


def test_beat_tasks_and_the_rest_go_to_their_queues():
    assert routed_queue(EOD_EXPORT_TASK, (3,)) == "eod"
    assert routed_queue(AUTO_SYNC_TASK, (3,)) == "cycle"
    for name in (tasks.EOD_CATCH_UP_TASK, tasks.MARK_STALE_TASK, retention.PRUNE_RUN_ITEMS_TASK):
        assert routed_queue(name) == "celery"
    # a message queued before the job rode along still runs, from the default queue
    assert routed_queue(RUN_JOB_TASK, (1,)) == "celery"


def test_workers_prefetch_one_message_and_acknowledge_after_the_task():
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late is True
    assert app.conf.task_default_queue == queues.DEFAULT
    # a worker started without -Q consumes every queue (the embedded mode and the tests' workers)
    assert set(app.amqp.queues) == set(queues.ALL)
    # each with its own exchange and key: a message for one queue never lands in another
    assert {(queue.name, queue.exchange.name, queue.routing_key) for queue in app.amqp.queues.values()} \
        == {(name, name, name) for name in queues.ALL}


@pytest.mark.django_db
def test_a_triggered_run_is_published_to_its_jobs_queue(django_capture_on_commit_callbacks):
    from tests.sync.factories import configured_store

    store = configured_store(sync_enabled=True)
    # Fresh connection and producer pools: a test pointing the app at another broker may have closed them.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    sent = []
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue("imports")
        queue.clear()
        with django_capture_on_commit_callbacks(execute=True):
            run = job_trigger(store=store, job=Job.IMPORT_PRODUCTS, trigger=SyncRun.Trigger.MANUAL)
        message = queue.get(timeout=2)
        sent.append(message.headers["task"])
        assert message.headers["argsrepr"] == f"({run.pk},)"
        message.ack()
        queue.close()
    assert sent == [RUN_JOB_TASK] and current_app.main == app.main
