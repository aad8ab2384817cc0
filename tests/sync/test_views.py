"""Run pages and job buttons: permissions, filters, keyset pages, CSV, progress, refusals, retry."""
import csv
import io
from datetime import UTC

import pytest
from django.urls import reverse

from plugin.sync import runs
from plugin.sync.models import SyncRun, SyncRunItem
from tests.sync.factories import RunFactory, StoreFactory, configured_store

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def finished_run(store, *, job="import_products", items=0, failed=0):
    run = runs.run_create(store=store, job=job)
    runs.run_start(run=run)
    outcomes = [runs.ItemOutcome(key=f"SKU-{i}", outcome="ok", quantity_after=i, detail={"ref": [i, None]})
                for i in range(items)]
    outcomes += [runs.ItemOutcome(key=f"BAD-{i}", outcome="failed", reason="Duplicate",
                                  detail={"ref": [1000 + i, None]}) for i in range(failed)]
    runs.run_items_record(run=run, outcomes=outcomes)
    return runs.run_finish(run=run)


def test_pages_need_login_and_view_permission(client, django_user_model):
    assert client.get(reverse("sync:run-list")).status_code == 302
    nobody = django_user_model.objects.create_user("nobody", password="x")
    client.force_login(nobody)
    assert client.get(reverse("sync:run-list")).status_code == 403


def test_run_list_filters_and_keyset_pages(client, viewer_user):
    store, other = StoreFactory(name="alpha"), StoreFactory(name="beta")
    made = [finished_run(store) for _ in range(55)]
    finished_run(other, job="import_carriers")
    client.force_login(viewer_user)
    first = client.get(reverse("sync:run-list"), {"store": store.pk})
    assert first.status_code == 200
    ids = [run.pk for run in first.context["page"].rows]
    assert ids == [run.pk for run in reversed(made)][:50]
    second = client.get(reverse("sync:run-list"), {"store": store.pk, "cursor": first.context["page"].next_cursor})
    assert [run.pk for run in second.context["page"].rows] == [run.pk for run in reversed(made)][50:]
    assert second.context["page"].next_cursor == ""
    by_job = client.get(reverse("sync:run-list"), {"job": "import_carriers"})
    assert [run.store.name for run in by_job.context["page"].rows] == ["beta"]
    assert client.get(reverse("sync:run-list"), {"status": "failed"}).context["page"].rows == []
    bad = client.get(reverse("sync:run-list"), {"from": "not-a-date", "cursor": "junk", "job": "nope"})
    assert bad.status_code == 200


def test_status_filter_finds_a_failed_step_of_a_partial_cycle(client, viewer_user):
    store = StoreFactory()
    cycle = RunFactory(store=store, job=SyncRun.Job.AUTO_SYNC, status=SyncRun.Status.PARTIAL)
    failed_step = RunFactory(store=store, job=SyncRun.Job.IMPORT_ORDERS, status=SyncRun.Status.FAILED,
                             options={"parent_run": cycle.pk})
    RunFactory(store=store, job=SyncRun.Job.EXPORT_ADJUSTMENTS, status=SyncRun.Status.SUCCEEDED,
               options={"parent_run": cycle.pk})
    client.force_login(viewer_user)
    listed = client.get(reverse("sync:run-list"), {"status": "failed"}).context["page"].rows
    assert [run.pk for run in listed] == [failed_step.pk]
    # Unfiltered, steps stay under their parent rather than at the top level.
    assert [run.pk for run in client.get(reverse("sync:run-list")).context["page"].rows] == [cycle.pk]
    # A parent job's filter still lists parents only.
    by_job = client.get(reverse("sync:run-list"), {"status": "partial", "job": SyncRun.Job.AUTO_SYNC})
    assert [run.pk for run in by_job.context["page"].rows] == [cycle.pk]


def test_run_detail_items_by_outcome_csv_and_progress(client, viewer_user):
    store = StoreFactory()
    run = finished_run(store, items=60, failed=3)
    client.force_login(viewer_user)
    page = client.get(reverse("sync:run-detail", args=[run.pk]))
    assert page.status_code == 200 and len(page.context["page"].rows) == 50
    more = client.get(reverse("sync:run-detail", args=[run.pk]), {"after": page.context["page"].next_cursor})
    assert len(more.context["page"].rows) == 13
    failed = client.get(reverse("sync:run-detail", args=[run.pk]), {"outcome": "failed"})
    assert [item.key for item in failed.context["page"].rows] == ["BAD-0", "BAD-1", "BAD-2"]
    assert b"Retry failed items" not in page.content  # a viewer may not retry
    response = client.get(reverse("sync:run-items-csv", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    # the page's column names
    assert rows[0][:4] == ["Key", "Action", "Outcome", "Reason"] and len(rows) == 64
    progress = client.get(reverse("sync:run-progress", args=[run.pk])).json()
    assert (progress["status"], progress["processed"], progress["failed"], progress["finished"]) == ("partial", 63, 3, True)


def test_retry_failed_items_button(client, operator_user, viewer_user):
    store = StoreFactory()
    run = finished_run(store, items=2, failed=2)
    client.force_login(viewer_user)
    assert client.post(reverse("sync:run-retry", args=[run.pk])).status_code == 403
    client.force_login(operator_user)
    response = client.post(reverse("sync:run-retry", args=[run.pk]))
    retry = SyncRun.objects.get(retry_of=run)
    assert response.status_code == 302 and response["Location"] == reverse("sync:run-detail", args=[retry.pk])
    assert retry.options["only_failed_of"] == run.pk and retry.user == operator_user


def test_job_button_refuses_with_the_reason_and_names_the_run_in_progress(client, operator_user, viewer_user):
    store = configured_store()
    store.connection_ok = False
    store.save()
    url = reverse("sync:job-start", args=[store.pk, "import_products"])
    client.force_login(viewer_user)
    assert client.post(url, **JSON).status_code == 403
    client.force_login(operator_user)
    refused = client.post(url, **JSON)
    assert refused.status_code == 409 and "Test the store connection" in refused.json()["error"]
    store.connection_ok = True
    store.save()
    eod = client.post(reverse("sync:job-start", args=[store.pk, "eod_export"]), **JSON)
    assert "Import products first" in eod.json()["error"]
    started = client.post(url, **JSON)
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    again = client.post(url, **JSON)
    assert again.status_code == 409 and f"run #{run_id}" in again.json()["error"]
    assert again.json()["run_id"] == run_id
    # without JavaScript: a redirect back with the reason as a message
    plain = client.post(url, {"next": "https://evil.example/"}, follow=True)
    assert plain.redirect_chain[-1][0] == reverse("configuration:sync", args=[store.pk])
    assert f"run #{run_id}" in plain.content.decode()
    assert client.post(reverse("sync:job-start", args=[store.pk, "nope"])).status_code == 404


def test_synchronization_tab_shows_the_job_buttons(client, operator_user):
    store = configured_store()
    client.force_login(operator_user)
    page = client.get(reverse("configuration:sync", args=[store.pk])).content.decode()
    for label in ["Import Products (BigCommerce -&gt; IntelliTrack)", "Import Inventory", "Import Carriers",
                  "Import Orders", "End of Day stock snapshot (IntelliTrack -&gt; BigCommerce)"]:
        assert label in page
    assert reverse("sync:job-start", args=[store.pk, "eod_export"]) in page
    assert SyncRunItem.objects.count() == 0


def test_shopping_cart_tab_shows_the_chained_import_button(client, operator_user):
    store = configured_store()
    client.force_login(operator_user)
    page = client.get(reverse("configuration:cart", args=[store.pk])).content.decode()
    assert "Import Products, Inventory, and Carriers (BigCommerce -&gt; IntelliTrack)" in page
    assert reverse("sync:job-start", args=[store.pk, "bootstrap"]) in page
    started = client.post(reverse("sync:job-start", args=[store.pk, "bootstrap"]), **JSON)
    assert started.status_code == 202
    assert SyncRun.objects.get(pk=started.json()["run_id"]).job == SyncRun.Job.BOOTSTRAP


def test_run_list_date_filter_covers_whole_days(client, viewer_user):
    from datetime import datetime

    store = StoreFactory()
    old, new = finished_run(store), finished_run(store)
    SyncRun.objects.filter(pk=old.pk).update(created_at=datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    SyncRun.objects.filter(pk=new.pk).update(created_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    client.force_login(viewer_user)
    day = client.get(reverse("sync:run-list"), {"from": "2026-03-01", "to": "2026-03-01"})
    assert [run.pk for run in day.context["page"].rows] == [old.pk]
    later = client.get(reverse("sync:run-list"), {"from": "2026-03-02"})
    assert [run.pk for run in later.context["page"].rows] == [new.pk]


def test_job_button_refuses_a_dry_run_for_an_import_with_the_reason_on_the_page(client, operator_user):
    store = configured_store()
    client.force_login(operator_user)
    url = reverse("sync:job-start", args=[store.pk, "import_products"])
    refused = client.post(url, {"dry_run": "1"}, **JSON)
    assert refused.status_code == 409 and "a dry run is for the End of Day export" in refused.json()["error"]
    plain = client.post(url, {"dry_run": "1"}, follow=True)
    assert "a dry run is for the End of Day export" in plain.content.decode()
    assert not SyncRun.objects.filter(store=store).exists()


@pytest.mark.parametrize("params", [
    {"to": "9999-12-31"}, {"from": "9999-12-31"}, {"from": "0001-01-01"}, {"to": "0001-01-01"},
    {"cursor": "2024-02-30T00:00:00_1"}, {"cursor": "2024-01-01T00:00:00_\u00b2"},
    {"cursor": "2024-01-01T00:00:00+99:00_1"}, {"cursor": "2024-01-01T00:00:00_" + "9" * 30},
    {"cursor": "_1"}, {"cursor": "\u00b2_\u00b2"}, {"cursor": "9999-12-31T23:59:59-12:00_1"},
    {"cursor": "0001-01-01T00:00:00+12:00_1"}, {"cursor": "0001-01-01T00:00:00_1"},
])
def test_run_list_ignores_bad_query_values(client, viewer_user, params):
    client.raise_request_exception = False
    run = finished_run(StoreFactory())
    client.force_login(viewer_user)
    response = client.get(reverse("sync:run-list"), params)
    assert response.status_code == 200
    assert reverse("sync:run-detail", args=[run.pk]) in response.content.decode() or "cursor" in params


@pytest.mark.parametrize("after", ["\u00b2", "\u0663", "9" * 30, "-1", "abc"])
def test_run_detail_ignores_a_bad_after(client, viewer_user, after):
    client.raise_request_exception = False
    run = finished_run(StoreFactory(), items=2)
    client.force_login(viewer_user)
    response = client.get(reverse("sync:run-detail", args=[run.pk]), {"after": after})
    assert response.status_code == 200


def test_csv_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(client, viewer_user):
    run = runs.run_create(store=StoreFactory(), job="import_products")
    runs.run_start(run=run)
    keys = ['=HYPERLINK("http://x.example","go")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "SKU-1", "a=b"]
    runs.run_items_record(run=run, outcomes=[
        runs.ItemOutcome(key=key, outcome="failed", reason=f"={n}+1", quantity_before=-3, quantity_after=n,
                         store_transaction_id="-tx")
        for n, key in enumerate(keys)])
    client.force_login(viewer_user)
    response = client.get(reverse("sync:run-items-csv", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))[1:]
    assert [row[0] for row in rows] == ["'" + key for key in keys[:6]] + ["SKU-1", "a=b"]
    assert {row[3] for row in rows} == {f"'={n}+1" for n in range(len(keys))}
    assert {row[7] for row in rows} == {"'-tx"}
    assert {row[4] for row in rows} == {"-3"}  # numbers stay numbers
