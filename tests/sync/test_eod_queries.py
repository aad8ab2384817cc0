"""End of Day's database statements do not grow with the store: the same store exported with many links
and then with few gives the same statements (every one counted: run records, order import, COPY)."""
import math

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from plugin.sync.jobs import eod
from plugin.sync.models import StoreItemLink, SyncRun, SyncRunItem
from plugin.sync.services import job_trigger, run_execute
from tests.sync.conftest import run_job, store_level

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


@override_settings(ITBC_RUN_PROGRESS_SECONDS=3600)  # no timer-driven progress write fires in this test
def test_end_of_day_statements_are_the_same_for_a_small_and_a_large_store(shop_factory, monkeypatch):
    monkeypatch.setattr(eod, "BATCH", BATCH)  # several write batches even for the small store
    store, server = shop_factory(products=600, orders=0)
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), boot.error
    large = StoreItemLink.objects.filter(store=store).count()
    assert large >= 500

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
