"""Run pages of real runs (every job against the sandbox store) in an operator's words: no Python repr,
no exception class name, no bookkeeping key; durations; steps under their parent; the End of Day drift
table and its "changed only" filter; retry only when something failed."""
import csv
import html
import io
import re

import pytest
from django.urls import reverse

from plugin.intellitrack import services as it
from plugin.sync import runs, selectors
from plugin.sync.models import StoreItemLink, SyncRun, SyncRunItem
from plugin.sync.presenters import INTERNAL_KEYS
from tests.sync.conftest import run_job
from tests.sync.factories import StoreFactory

pytestmark = [pytest.mark.django_db(transaction=True)]
Job = SyncRun.Job
FORBIDDEN = ["{", "}", "['", "_StepFailed", "Error:", "True", "None", "dry_run"]


def page_text(response) -> str:
    """The visible text of the page's main content (tags, scripts and attributes left out)."""
    body = response.content.decode()
    body = body.split("</nav>", 1)[-1]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def assert_operator_words(text: str):
    for mark in FORBIDDEN:
        assert mark not in text, (mark, text[max(0, text.find(mark) - 200):text.find(mark) + 200])
    for key in INTERNAL_KEYS:
        if "_" in key:
            assert key not in text, key


def adjust(store, links, delta):
    config = store.basic_configuration
    for link in links:
        it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                            quantity_delta=delta, reason="count")


@pytest.fixture
def history(shop_factory):
    """A store with a run of every job: go-live, orders, End of Day (dry and real), adjustments,
    fulfillments, an auto sync cycle."""
    store, server = shop_factory(products=40, orders=20, order_statuses_to_import=[11, 9, 3])
    made = {"bootstrap": run_job(store, Job.BOOTSTRAP), "orders": run_job(store, Job.IMPORT_ORDERS)}
    made["eod"] = run_job(store, Job.EOD_EXPORT)
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id"))
    adjust(store, links[:3], 5)
    made["dry"] = run_job(store, Job.EOD_EXPORT, dry_run=True)
    made["adjustments"] = run_job(store, Job.EXPORT_ADJUSTMENTS)
    made["fulfillments"] = run_job(store, Job.EXPORT_FULFILLMENTS)
    made["cycle"] = run_job(store, Job.AUTO_SYNC)
    for run in made.values():
        assert run.status == SyncRun.Status.SUCCEEDED, (run.job, run.error)
    return store, server, made, links


def test_pages_of_real_runs_of_every_job_speak_plainly(client, viewer_user, history):
    store, _server, made, _links = history
    client.force_login(viewer_user)
    every = SyncRun.objects.filter(store=store)
    assert set(every.values_list("job", flat=True)) == set(Job.values) - {Job.IMPORT_PRODUCTS} | {Job.IMPORT_PRODUCTS}
    for run in every:
        response = client.get(reverse("sync:run-detail", args=[run.pk]))
        assert response.status_code == 200
        text = page_text(response)
        assert_operator_words(text)
        assert "Duration" in text
    listing = page_text(client.get(reverse("sync:run-list"), {"store": store.pk}))
    assert_operator_words(listing)
    # sentences of the job's own kind
    eod_text = page_text(client.get(reverse("sync:run-detail", args=[made["eod"].pk])))
    assert re.search(r"Sent (\d+) levels in 1 request\.", eod_text), eod_text[eod_text.find("What happened"):][:300]
    dry = page_text(client.get(reverse("sync:run-detail", args=[made["dry"].pk])))
    assert "3 items had drifted from the store's level." in dry
    orders = page_text(client.get(reverse("sync:run-detail", args=[made["orders"].pk])))
    assert re.search(r"Imported \d+ orders\.", orders)
    # columns without a figure on the page are left out; the CSV keeps them all
    boot_page = client.get(reverse("sync:run-detail", args=[made["bootstrap"].pk]))
    assert [column.name for column in boot_page.context["columns"]] == ["Key", "Action", "Outcome", "Reason"]
    inventory = SyncRun.objects.get(options__parent_run=made["bootstrap"].pk, job=Job.IMPORT_INVENTORY)
    names = [c.name for c in client.get(reverse("sync:run-detail", args=[inventory.pk])).context["columns"]]
    assert "Quantity after" in names and "Details" in names


def test_a_failed_step_reads_as_a_sentence_and_its_detail_goes_to_the_log(client, viewer_user, shop_factory, caplog):
    store, _server = shop_factory(products=5, orders=0)
    store.access_token = "not-the-token"
    store.save()
    with caplog.at_level("INFO", logger="plugin.sync.runs"):
        boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status == SyncRun.Status.FAILED
    assert "_StepFailed" not in boot.error and "AuthError" not in boot.error
    assert boot.error.startswith("Import Products (BigCommerce -> IntelliTrack) failed (run #")
    assert "BigCommerce refused the store's access token" in boot.error
    assert any("_StepFailed:" in record.getMessage() for record in caplog.records)  # the technical text
    client.force_login(viewer_user)
    text = page_text(client.get(reverse("sync:run-detail", args=[boot.pk])))
    assert_operator_words(text)
    assert "BigCommerce refused the store's access token" in text


def test_steps_are_grouped_under_their_parent_with_durations(client, viewer_user, history):
    store, _server, made, _links = history
    client.force_login(viewer_user)
    response = client.get(reverse("sync:run-list"), {"store": store.pk})
    body = response.content.decode()
    rows = re.findall(r'<tr class="run-row( run-step)?[^"]*" data-run="(\d+)"(?: data-parent="(\d+)")?', body)
    order = [(int(pk), bool(step), int(parent) if parent else None) for step, pk, parent in rows]
    cycle, boot = made["cycle"], made["bootstrap"]
    cycle_steps = list(SyncRun.objects.filter(options__parent_run=cycle.pk).order_by("id").values_list("pk", flat=True))
    boot_steps = list(SyncRun.objects.filter(options__parent_run=boot.pk).order_by("id").values_list("pk", flat=True))
    assert len(cycle_steps) == 4 and len(boot_steps) == 3
    at = [pk for pk, _step, _parent in order].index(cycle.pk)
    assert order[at + 1:at + 5] == [(pk, True, cycle.pk) for pk in cycle_steps]  # right under the parent
    at = [pk for pk, _step, _parent in order].index(boot.pk)
    assert order[at + 1:at + 4] == [(pk, True, boot.pk) for pk in boot_steps]
    top_level = [pk for pk, step, _parent in order if not step]
    assert not set(top_level) & set(cycle_steps + boot_steps)  # a step is not listed twice
    durations = re.findall(r'run-duration">([^<]*)<', body)
    assert durations and all(re.fullmatch(r"\d+(\.\d)? s|\d+ min \d\d s", d) for d in durations), durations
    # the parent's page lists its steps with outcomes and durations
    detail = client.get(reverse("sync:run-detail", args=[cycle.pk])).content.decode()
    steps_table = detail.split('id="run-steps"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-run="(\d+)"', steps_table) == [str(pk) for pk in cycle_steps]
    assert steps_table.count("Succeeded") == 4 and re.search(r"\d(\.\d)? s<", steps_table)
    # a step's page names its parent
    step_page = client.get(reverse("sync:run-detail", args=[cycle_steps[0]])).content.decode()
    assert reverse("sync:run-detail", args=[cycle.pk]) in step_page.split('id="run-parent"', 1)[1][:300]


def test_the_job_filter_finds_every_kind_including_the_auto_sync_cycle(client, viewer_user, history):
    store, _server, made, _links = history
    client.force_login(viewer_user)
    for job in Job.values:
        listed = client.get(reverse("sync:run-list"), {"job": job}).context["rows"]
        expected = set(SyncRun.objects.filter(store=store, job=job).values_list("pk", flat=True))
        shown = {row.run.pk for row in listed} | {child.run.pk for row in listed for child in row.children
                                                   if child.run.job == job}
        assert shown == expected and expected, job
    cycles = client.get(reverse("sync:run-list"), {"job": "auto_sync"}).context["rows"]
    assert [row.run.pk for row in cycles] == [made["cycle"].pk]
    assert len(cycles[0].children) == 4


def test_end_of_day_drift_table_changed_only_filter_pages_and_matches_the_summary(client, viewer_user,
                                                                                 shop_factory):
    store, _server = shop_factory(products=70, orders=10)
    run_job(store, Job.BOOTSTRAP)
    run_job(store, Job.EOD_EXPORT)
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id"))
    assert len(links) > 50
    drifted = links[::10]  # our own account: these items' levels no longer match the store's
    adjust(store, drifted, 4)
    dry = run_job(store, Job.EOD_EXPORT, dry_run=True)
    assert dry.summary["drifted_items"] == len(drifted)
    client.force_login(viewer_user)
    url = reverse("sync:run-detail", args=[dry.pk])
    every = client.get(url)
    assert len(every.context["items"]) == 50 and every.context["page"].next_cursor
    changed = client.get(url, {"changed": "1"})
    assert changed.context["changed_count"] == len(drifted)
    keys = [row.cells[0][0] for row in changed.context["items"]]
    assert keys == [link.sku or link.item.item_number for link in drifted]
    assert all(row.changed for row in changed.context["items"])
    text = page_text(changed)
    assert f"Changed only ({len(drifted)})" in text
    row = changed.context["items"][0]
    cells = [text for text, _numeric in row.cells]
    assert cells[3] == "read from the store" and cells[7] == "+4"
    # paging keeps the filter, server-side, without JavaScript
    paged = client.get(url, {"changed": "1", "after": str(SyncRunItem.objects.get(run=dry, key=keys[2]).pk)})
    assert [r.cells[0][0] for r in paged.context["items"]] == keys[3:]
    two = selectors.sync_run_item_list(run=dry, changed_only=True, size=2)
    assert [item.key for item in two.rows] == keys[:2]
    more = client.get(url, {"changed": "1", "after": two.next_cursor})
    assert [r.cells[0][0] for r in more.context["items"]] == keys[2:]
    # the CSV uses the page's column names and honours the filter
    response = client.get(reverse("sync:run-items-csv", args=[dry.pk]), {"changed": "1"})
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0] == ["Key", "Outcome", "Store level before", "Known from", "On-hand", "Held by open orders",
                        "Level to send", "Change", "Reason", "Store transaction"]
    assert [row[0] for row in table[1:]] == keys and {row[7] for row in table[1:]} == {"4"}


def test_real_end_of_day_before_means_the_last_known_level_and_the_transaction_shows_once(client, viewer_user,
                                                                                          shop_factory):
    store, server = shop_factory(products=30, orders=0)
    run_job(store, Job.BOOTSTRAP)
    first = run_job(store, Job.EOD_EXPORT)
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id"))
    adjust(store, links[:2], 3)
    second = run_job(store, Job.EOD_EXPORT)
    assert second.summary["changed_items"] == 2
    rows = {row.key: row for row in SyncRunItem.objects.filter(run=second)}
    sent_first = dict(SyncRunItem.objects.filter(run=first).values_list("key", "quantity_after"))
    for link in links:
        row = rows[link.sku or link.item.item_number]
        assert row.quantity_before == sent_first[row.key] and row.detail["before_source"] == "last_sent"
    client.force_login(viewer_user)
    response = client.get(reverse("sync:run-detail", args=[second.pk]))
    [transaction] = {row.store_transaction_id for row in rows.values()}
    body = response.content.decode()
    assert body.count(transaction) == 1 and 'id="run-transaction"' in body
    assert "Store transaction</th>" not in body
    assert [r.cells[0][0] for r in client.get(reverse("sync:run-detail", args=[second.pk]),
                                               {"changed": "1"}).context["items"]] == \
        [link.sku or link.item.item_number for link in links[:2]]


def test_retry_shows_only_when_an_item_failed(client, operator_user):
    store = StoreFactory()
    client.force_login(operator_user)

    def finished(*, ok, failed, error=""):
        run = runs.run_create(store=store, job=Job.IMPORT_CARRIERS)
        runs.run_start(run=run)
        runs.run_items_record(run=run, outcomes=[runs.ItemOutcome(key=f"C{i}", outcome="ok") for i in range(ok)]
                              + [runs.ItemOutcome(key=f"F{i}", outcome="failed", reason="Refused")
                                 for i in range(failed)])
        return runs.run_finish(run=run, error=error)

    clean = finished(ok=3, failed=0)
    partial = finished(ok=3, failed=1)
    broken = finished(ok=0, failed=0, error="AuthError: BigCommerce answered 401")
    assert clean.status == "succeeded" and partial.status == "partial" and broken.status == "failed"
    page = client.get(reverse("sync:run-detail", args=[clean.pk])).content.decode()
    assert 'id="retry-failed"' not in page and 'id="run-again"' not in page
    page = client.get(reverse("sync:run-detail", args=[partial.pk])).content.decode()
    assert 'id="retry-failed"' in page
    response = client.get(reverse("sync:run-detail", args=[broken.pk]))
    page = response.content.decode()
    assert 'id="retry-failed"' not in page and 'id="run-again"' in page  # nothing failed item by item
    assert "AuthError" not in page and "BigCommerce refused the store's access token" in page_text(response)


def test_progress_speaks_in_the_runs_own_units(client, viewer_user, shop_factory):
    store, _server = shop_factory(products=12, orders=0)
    boot = run_job(store, Job.BOOTSTRAP)
    products = SyncRun.objects.get(options__parent_run=boot.pk, job=Job.IMPORT_PRODUCTS)
    client.force_login(viewer_user)
    data = client.get(reverse("sync:run-progress", args=[products.pk])).json()
    assert data["progress_text"] == f"{products.processed} of {products.total} products"
    assert data["outcomes_text"].startswith(f"{products.succeeded_count} items OK")
    assert data["error"] == ""


def test_run_again_says_it_runs_the_whole_job(client, operator_user):
    store = StoreFactory()
    run = runs.run_create(store=store, job=Job.IMPORT_CARRIERS)
    runs.run_start(run=run)
    runs.run_finish(run=run, error="TransientError: GET /v2/shipping/zones got no answer (ReadTimeout).")
    client.force_login(operator_user)
    page = client.post(reverse("sync:run-retry", args=[run.pk]), follow=True)
    again = SyncRun.objects.get(retry_of=run)
    assert "only_failed_of" not in again.options
    assert f"Run #{again.pk} runs the job of run #{run.pk} again." in page_text(page)
