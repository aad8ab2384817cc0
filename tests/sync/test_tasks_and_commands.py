"""Tasks are queued on commit and safe to run twice; the job commands print a summary and exit codes."""
import pytest
from django.core.management import call_command

from itbc_portal.celery import app
from plugin.sync import services, tasks
from plugin.sync.jobs.context import PrerequisiteMissing
from plugin.sync.models import StoreItemLink, SyncRun
from plugin.sync.runs import RunInProgress

pytestmark = pytest.mark.django_db
Job = SyncRun.Job


def test_trigger_queues_the_task_only_after_commit_and_a_second_delivery_does_nothing(
    shop, django_capture_on_commit_callbacks
):
    store, _server = shop
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, trigger=SyncRun.Trigger.MANUAL)
    assert len(callbacks) == 1
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED  # nothing ran before the commit
    app.conf.task_always_eager = True
    try:
        callbacks[0]()  # the commit happens: the task runs (eagerly here)
    finally:
        app.conf.task_always_eager = False
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    links = StoreItemLink.objects.filter(store=store).count()
    tasks.run_job(run.pk)  # delivered again
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED and StoreItemLink.objects.filter(store=store).count() == links
    assert SyncRun.objects.filter(store=store).count() == 1


def test_second_trigger_names_the_run_in_progress(shop):
    store, _server = shop
    first = services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False)
    with pytest.raises(RunInProgress) as caught:
        services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False)
    assert f"run #{first.pk}" in str(caught.value)


def test_prerequisites_refuse_with_the_reason(shop):
    store, _server = shop
    with pytest.raises(PrerequisiteMissing, match="Import products first"):
        services.job_trigger(store=store, job=Job.EOD_EXPORT, enqueue=False)
    store.connection_ok = False
    store.save()
    with pytest.raises(PrerequisiteMissing, match="Test the store connection"):
        services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False)
    config = store.basic_configuration
    config.default_uom = None
    config.save()
    with pytest.raises(PrerequisiteMissing, match="Save the Basic Configuration"):
        services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False)
    assert not SyncRun.objects.filter(store=store).exists()


def test_commands_print_the_run_and_exit_0_3_1(shop, capsys):
    store, server = shop
    call_command("itbc", "import-products", "--store", store.name)  # succeeded: no SystemExit
    out = capsys.readouterr().out
    run = SyncRun.objects.get(store=store, job=Job.IMPORT_PRODUCTS)
    assert f"Run #{run.pk}" in out and "Succeeded" in out and f"{run.succeeded_count} ok" in out

    from tests.sync.test_product_import import _add

    _add(server.state, name="Blank", tracking="product", skus=[""])
    with pytest.raises(SystemExit) as partial:
        call_command("itbc", "import-products", "--store", store.name)
    assert partial.value.code == 3
    assert "Partial" in capsys.readouterr().out

    server.token = "rotated"  # the store now refuses our token: the run fails
    server.app.token = "rotated"
    with pytest.raises(SystemExit) as failed:
        call_command("itbc", "eod", "--store", store.name, "--dry-run")
    assert failed.value.code == 1
    out = capsys.readouterr().out
    assert "Failed" in out and "Error:" in out

    with pytest.raises(SystemExit) as unknown:
        call_command("itbc", "eod", "--store", "nope")
    assert unknown.value.code == 1


def test_auto_sync_cycle_imports_orders(shop):
    store, server = shop
    services.run_execute(run_id=services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False).pk)
    tasks.auto_sync(store.pk)
    run = SyncRun.objects.get(store=store, job=Job.IMPORT_ORDERS)
    assert (run.trigger, run.status) == (SyncRun.Trigger.SCHEDULE, SyncRun.Status.SUCCEEDED)
    tasks.auto_sync(store.pk)
    assert SyncRun.objects.filter(store=store, job=Job.IMPORT_ORDERS).count() == 2


def test_jobs_run_without_redis_through_the_database_guarantee(shop, settings):
    settings.REDIS_URL = ""
    store, _server = shop
    run = services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False)
    with pytest.raises(RunInProgress):
        services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False)
    finished = services.run_execute(run_id=run.pk)
    assert finished.status == SyncRun.Status.SUCCEEDED
    assert services.run_execute(run_id=run.pk) is None  # a second delivery does nothing
