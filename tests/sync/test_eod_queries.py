"""End of Day's database statements do not grow with the store: the same store exported with many links
and then with few gives the same statements (every one counted: run records, order import, COPY).
Progress is written on a timer, and a run that fails mid-way still records what it sent."""
import math

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from plugin.bigcommerce.errors import TransientError
from plugin.sync import runs
from plugin.sync.jobs import eod
from plugin.sync.models import StoreItemLink, SyncRun, SyncRunItem
from plugin.sync.services import job_trigger, run_execute
from tests.sync.conftest import run_job, sandbox_client, store_level

pytestmark = [pytest.mark.django_db]

Job = SyncRun.Job
BATCH = 20


def measured_eod(store, *, dry_run=False) -> tuple[SyncRun, list[str]]:
    run = job_trigger(store=store, job=Job.EOD_EXPORT, trigger=SyncRun.Trigger.COMMAND, dry_run=dry_run,
                      enqueue=False)
    with CaptureQueriesContext(connection) as captured:
        finished = run_execute(run_id=run.pk)
    assert finished is not None and finished.status == SyncRun.Status.SUCCEEDED, finished and finished.error
    # The statement kinds in order (savepoint names and parameters differ from run to run).
    return finished, [query["sql"].split(None, 1)[0].upper() for query in captured.captured_queries]


@pytest.mark.postgres  # elsewhere the item rows and link levels fall back to batches
@override_settings(ITBC_RUN_PROGRESS_SECONDS=3600)  # no timer-driven progress write fires in this test
def test_end_of_day_statements_are_the_same_for_a_small_and_a_large_store(shop_factory, monkeypatch):
    monkeypatch.setattr(eod, "BATCH", BATCH)  # several write batches even for the small store
    store, server = shop_factory(products=600, orders=0)
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), boot.error
    large = StoreItemLink.objects.filter(store=store).count()
    assert large >= 500
    # The first End of Day after go-live reads once what later ones do not (where order scans start).
    measured_eod(store)

    big_run, big_queries = measured_eod(store)
    big_dry, big_dry_queries = measured_eod(store, dry_run=True)

    keep = list(StoreItemLink.objects.filter(store=store).order_by("id").values_list("id", flat=True)[:50])
    StoreItemLink.objects.filter(store=store).exclude(id__in=keep).delete()
    small_run, small_queries = measured_eod(store)
    small_dry, small_dry_queries = measured_eod(store, dry_run=True)

    assert big_run.summary["write_requests"] == math.ceil(large / BATCH) > small_run.summary["write_requests"] == 3
    assert small_queries == big_queries
    assert small_dry_queries == big_dry_queries
    assert "COPY" in big_queries  # the item rows are counted too
    assert big_run.summary["progress_writes"] == small_run.summary["progress_writes"] == 0

    # and the work was all done: one row per link, counters, the links' last levels, the store's levels
    for run, size in ((big_run, large), (small_run, 50), (big_dry, large), (small_dry, 50)):
        assert run.items.count() == run.processed == run.total == run.succeeded_count == size
    links = list(StoreItemLink.objects.filter(store=store))
    sent = dict(small_run.items.values_list("detail__ref", "quantity_after"))
    assert {link.id: link.last_exported_qty for link in links} == sent
    assert {link.id: store_level(server.state, link) for link in links} == sent
    read = dict(small_dry.items.values_list("detail__ref", "quantity_before"))
    assert {link.id: link.last_remote_qty for link in links} == read
    assert set(small_dry.items.values_list("action", flat=True)) == {"dry_run"}
    assert not SyncRunItem.objects.filter(run=small_run).exclude(store_transaction_id__regex=r".+").exists()


class StoreGoesDown:
    """The sandbox client until `after` write requests have gone out; then every write fails for good."""

    def __init__(self, client, *, after: int):
        self._client, self.after, self.writes = client, after, 0
        self.progress_seen = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def adjust_absolute(self, items, **kwargs):
        self.writes += 1
        if self.writes > self.after:
            self.progress_seen.append(SyncRun.objects.filter(job=Job.EOD_EXPORT).latest("pk").processed)
            raise TransientError("503 Service Unavailable", status=503)
        return self._client.adjust_absolute(items, **kwargs)


@override_settings(ITBC_RUN_PROGRESS_SECONDS=0)  # every batch writes its progress
def test_a_run_that_fails_mid_way_records_what_it_sent_and_shows_live_progress(shop_factory, monkeypatch):
    monkeypatch.setattr(eod, "BATCH", BATCH)
    store, server = shop_factory(products=60, orders=0)
    run_job(store, Job.BOOTSTRAP)
    client = StoreGoesDown(sandbox_client(server), after=2)
    run = run_job(store, Job.EOD_EXPORT, client=client)
    assert run.status == SyncRun.Status.FAILED and "503" in run.error
    # while the store was down, the run row already showed the two batches done
    assert client.progress_seen == [2 * BATCH, 2 * BATCH]  # the batch was tried twice
    sent = list(run.items.order_by("id"))
    assert len(sent) == run.succeeded_count == run.processed == 2 * BATCH
    assert all(item.outcome == SyncRunItem.Outcome.OK and item.store_transaction_id for item in sent)
    links = {link.id: link for link in StoreItemLink.objects.filter(store=store)}
    assert len(links) > 2 * BATCH
    assert all(links[item.detail["ref"]].last_exported_qty == item.quantity_after for item in sent)
    assert all(store_level(server.state, links[item.detail["ref"]]) == item.quantity_after for item in sent)
    assert sum(link.last_exported_qty is not None for link in links.values()) == 2 * BATCH


def test_progress_is_written_on_a_timer_not_per_batch(shop_factory):
    store, _server = shop_factory(products=5, orders=0)
    run = SyncRun.objects.create(store=store, job=Job.EOD_EXPORT, status=SyncRun.Status.RUNNING)
    now = [0.0]
    progress = runs.RunProgress(run=run, every=2.0, clock=lambda: now[0])
    for _ in range(50):
        progress.tick(100)
    assert progress.writes == 0 and SyncRun.objects.get(pk=run.pk).processed == 0
    now[0] = 2.5
    progress.tick(100)
    assert progress.writes == 1 and SyncRun.objects.get(pk=run.pk).processed == 5100
    for _ in range(10):
        progress.tick(1)
    assert progress.writes == 1 and SyncRun.objects.get(pk=run.pk).processed == 5100
    now[0] = 4.6
    progress.tick()
    assert progress.writes == 2 and SyncRun.objects.get(pk=run.pk).processed == 5110


@pytest.mark.postgres  # row versions (xmin) are PostgreSQL's
def test_a_steady_end_of_day_rewrites_only_the_links_whose_level_changed(shop_factory):
    from plugin.intellitrack import services as it
    from plugin.sync.models import StoreSyncState

    store, server = shop_factory(products=40, orders=0)
    run_job(store, Job.BOOTSTRAP)
    measured_eod(store)

    def row_versions():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, xmin::text FROM {StoreItemLink._meta.db_table} WHERE store_id = %s",
                           [store.pk])
            return dict(cursor.fetchall())

    before = row_versions()
    link = StoreItemLink.objects.filter(store=store).order_by("id").first()
    config = store.basic_configuration
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=3, reason="found")
    run, _ = measured_eod(store)

    after = row_versions()
    assert {link_id for link_id in before if before[link_id] != after[link_id]} == {link.pk}
    sent = dict(run.items.values_list("detail__ref", "quantity_after"))
    links = StoreItemLink.objects.filter(store=store)
    assert {each.id: each.last_exported_qty for each in links} == sent
    assert {each.id: store_level(server.state, each) for each in links} == sent
    # The full run moved the Adjustment export past its snapshot, with its items.
    from plugin.intellitrack.models import InventoryTransaction
    assert StoreSyncState.objects.get(store=store).adjustments_cursor == InventoryTransaction.objects.latest("pk").pk
