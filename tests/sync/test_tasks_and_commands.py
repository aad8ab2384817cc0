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
    from plugin.configuration.models import BasicConfiguration

    store, server = shop
    BasicConfiguration.objects.filter(store=store).update(auto_sync_enabled=True)
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


def test_a_dry_run_is_refused_for_the_imports_and_they_write_nothing(shop):
    store, server = shop
    services.run_execute(run_id=services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False).pk)
    for job in (Job.IMPORT_PRODUCTS, Job.IMPORT_INVENTORY, Job.IMPORT_CARRIERS, Job.IMPORT_ORDERS, Job.BOOTSTRAP):
        with pytest.raises(PrerequisiteMissing, match="a dry run is for the End of Day export"):
            services.job_trigger(store=store, job=job, dry_run=True, enqueue=False)
    assert not SyncRun.objects.filter(store=store, dry_run=True).exists()


@pytest.mark.parametrize("args", [["import-inventory", "--overwrite"], ["import-orders"], ["bootstrap"]])
def test_the_import_commands_refuse_dry_run_with_exit_2(shop, capsys, args):
    from plugin.intellitrack.models import InventoryRecord, PickingOrder

    store, _server = shop
    call_command("itbc", "import-products", "--store", store.name)
    runs_before = SyncRun.objects.count()
    stock = sorted(InventoryRecord.objects.values_list("item_id", "location_id", "on_hand"))
    with pytest.raises(SystemExit) as refused:
        call_command("itbc", *args, "--store", store.name, "--dry-run")
    assert refused.value.code == 2
    assert "a dry run is for the End of Day export" in capsys.readouterr().err
    assert SyncRun.objects.count() == runs_before
    assert sorted(InventoryRecord.objects.values_list("item_id", "location_id", "on_hand")) == stock
    assert not PickingOrder.objects.filter(source_store=store).exists()


def test_import_help_says_a_dry_run_is_for_the_end_of_day(capsys):
    with pytest.raises(SystemExit):
        call_command("itbc", "import-orders", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "imports write to IntelliTrack only; a dry run is for the End of Day export" in help_text


def test_end_of_day_dry_run_imports_orders_first_and_says_so(shop):
    from plugin.intellitrack.models import PickingOrder

    store, server = shop
    store.basic_configuration.order_statuses_to_import = [11, 9]
    store.basic_configuration.save()
    services.run_execute(run_id=services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False).pk)
    stock_before = {key: dict(levels) for key, levels in server.state.stock.items()}
    run = services.run_execute(run_id=services.job_trigger(store=store, job=Job.EOD_EXPORT, dry_run=True,
                                                           enqueue=False).pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.summary["dry_run"] is True and run.summary["orders_imported_first"] is True
    assert "orders are still imported into IntelliTrack first" in run.summary["dry_run_reason"]
    orders = SyncRun.objects.get(pk=run.summary["orders_run"])
    assert orders.job == Job.IMPORT_ORDERS and orders.dry_run is False
    assert PickingOrder.objects.filter(source_store=store).exists()
    assert {key: dict(levels) for key, levels in server.state.stock.items()} == stock_before


def _auto_sync_store(shop, *, watermark_minutes_ago=10):
    from datetime import timedelta

    from django.utils import timezone

    from plugin.configuration.models import BasicConfiguration

    store, server = shop
    services.run_execute(run_id=services.job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False).pk)
    BasicConfiguration.objects.filter(store=store).update(
        order_statuses_to_import=[11, 9], auto_sync_enabled=True,
        last_auto_sync_completed_on=timezone.now() - timedelta(minutes=watermark_minutes_ago))
    return store, server


def _place_order(server, store, *, sku=None):
    link = StoreItemLink.objects.filter(store=store, tracking="product").order_by("id").first()
    if sku is None:
        server.state.set_stock(quantity=50, product_id=link.product_id)
        return server.state.place_order(items=[{"product_id": link.product_id, "quantity": 1}], status_id=11)
    return server.state.place_order(items=[{"sku": sku, "quantity": 1}], status_id=11)


def test_auto_sync_lists_orders_modified_since_the_watermark_and_then_moves_it(shop):
    from plugin.configuration.models import BasicConfiguration
    from plugin.intellitrack.models import PickingOrder

    store, server = _auto_sync_store(shop)
    older = [o.id for o in server.state.orders.values() if o.status_id in (11, 9)]
    assert older  # orders last modified before the watermark: the cycle leaves them alone
    fresh = _place_order(server, store)
    history = BasicConfiguration.history.filter(store=store).count()
    tasks.auto_sync(store.pk)
    run = SyncRun.objects.get(store=store, job=Job.IMPORT_ORDERS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert set(PickingOrder.objects.filter(source_store=store).values_list("store_order_id", flat=True)) == {fresh.id}
    config = BasicConfiguration.objects.get(store=store)
    cycle = SyncRun.objects.get(store=store, job=Job.AUTO_SYNC)
    assert cycle.status == SyncRun.Status.SUCCEEDED, cycle.summary
    assert config.last_auto_sync_completed_on == cycle.started_at
    assert BasicConfiguration.history.filter(store=store).count() == history  # a system write, not an edit


def test_auto_sync_retries_a_waiting_order_the_listing_no_longer_shows_and_a_partial_cycle_keeps_the_watermark(
    shop, monkeypatch
):
    import time
    from datetime import timedelta

    from django.utils import timezone

    from plugin.configuration.models import BasicConfiguration
    from plugin.intellitrack.gateway import EmbeddedGateway, PickingOrderResult
    from plugin.intellitrack.models import PickingOrder

    store, server = _auto_sync_store(shop)
    late = _place_order(server, store)
    create = EmbeddedGateway.picking_orders_create

    def refuse(self, orders):  # IntelliTrack refuses the order this time: it waits
        return [PickingOrderResult(store_order_id=o.store_order_id, number=o.number, outcome="invalid",
                                   reason="The division is being reorganised.") for o in orders]

    monkeypatch.setattr(EmbeddedGateway, "picking_orders_create", refuse)
    watermark = BasicConfiguration.objects.get(store=store).last_auto_sync_completed_on
    tasks.auto_sync(store.pk)
    first = SyncRun.objects.filter(store=store, job=Job.IMPORT_ORDERS).latest("pk")
    assert first.status == SyncRun.Status.PARTIAL
    assert first.items.get(key=str(late.id)).action == "waiting"
    # a step with a failed item moves the watermark (the waiting order is fetched by id from now on)
    first_cycle = SyncRun.objects.filter(store=store, job=Job.AUTO_SYNC).latest("pk")
    assert first_cycle.status == SyncRun.Status.PARTIAL
    assert BasicConfiguration.objects.get(store=store).last_auto_sync_completed_on == first_cycle.started_at != watermark

    monkeypatch.setattr(EmbeddedGateway, "picking_orders_create", create)
    server.state.orders[late.id].date_modified = time.time() - 86400  # out of the next listing's window
    BasicConfiguration.objects.filter(store=store).update(
        last_auto_sync_completed_on=timezone.now() - timedelta(minutes=10))
    tasks.auto_sync(store.pk)
    second = SyncRun.objects.filter(store=store, job=Job.IMPORT_ORDERS).latest("pk")
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert second.items.get(key=str(late.id)).action == "created"
    assert PickingOrder.objects.filter(source_store=store, store_order_id=late.id).exists()
    cycle = SyncRun.objects.filter(store=store, job=Job.AUTO_SYNC).latest("pk")
    assert cycle.status == SyncRun.Status.SUCCEEDED, cycle.summary
    assert BasicConfiguration.objects.get(store=store).last_auto_sync_completed_on == cycle.started_at