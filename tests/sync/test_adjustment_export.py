"""Adjustment export (IntelliTrack -> BigCommerce, intraday) over real HTTP against the sandbox store.

Every expected store level is the test's own account: the level the sandbox held before, plus the units
the test itself changed inside the quantity scope (default site S1: locations L1 and L2; L9 is in another
site). Nothing here asks the code under test what it should have sent."""
from collections import defaultdict

import pytest
from django.urls import reverse

from plugin.intellitrack import services as it
from plugin.intellitrack.models import InventoryRecord, Location, PickingOrderLine
from plugin.sync import queues
from plugin.sync.jobs import adjustments
from plugin.sync.models import AdjustmentBatch, StoreItemLink, StoreSyncState, SyncRun, SyncRunItem
from plugin.sync.services import job_trigger, run_execute
from tests.intellitrack.factories import PickingOrderFactory, PickingOrderLineFactory, UOMFactory
from tests.sync.conftest import run_job, sandbox_client, store_level

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
Job = SyncRun.Job
RELATIVE = "/v3/inventory/adjustments/relative"


def live_shop(shop_factory, **config):
    store, server = shop_factory(products=30, orders=0, order_statuses_to_import=[11], **config)
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status == SyncRun.Status.SUCCEEDED, boot.error
    return store, server


def stocked_links(store, server, count: int) -> list[StoreItemLink]:
    """Variant-tracked links whose store level is at least 10 (so the store has a level to adjust)."""
    found = [link for link in StoreItemLink.objects.filter(store=store, tracking="variant").select_related("item")
             .order_by("id") if store_level(server.state, link) >= 10]
    assert len(found) >= count, "not enough stocked units in the generated store"
    return found[:count]


def places(store):
    config = store.basic_configuration
    return config, Location.objects.get(code="L2"), Location.objects.get(code="L9")


def levels(server, links) -> dict[int, int]:
    return {link.id: store_level(server.state, link) for link in links}


def on_hand(link, location, uom) -> int:
    record = InventoryRecord.objects.filter(item=link.item, location=location, uom=uom).first()
    return record.on_hand if record else 0


def test_changes_in_the_scope_reach_the_store_once_summed_per_item_store_picks_stay_out(shop_factory):
    store, server = live_shop(shop_factory)
    state = server.state
    config, l2, l9 = places(store)
    l1, ea = config.default_location, config.default_uom
    case = UOMFactory(division=config.default_division, code="CS", each_count=12)
    links = stocked_links(store, server, 7)
    # a store order for the last unit, imported: its pick must not reach the store (the store took it)
    ordered = links[6]
    order = state.place_order(items=[{"variant_id": ordered.variant_id, "quantity": 2}], status_id=11)
    run_job(store, Job.IMPORT_ORDERS)
    before = levels(server, StoreItemLink.objects.filter(store=store))
    expected = defaultdict(int)

    it.inventory_adjust(item=links[0].item, location=l1, uom=ea, quantity_delta=5, reason="found")
    it.inventory_adjust(item=links[0].item, location=l1, uom=ea, quantity_delta=-2, reason="damaged")
    expected[links[0].id] += 3
    counted = on_hand(links[1], l1, ea)
    it.inventory_set(item=links[1].item, location=l1, uom=ea, quantity=counted - 4, reason="cycle count")
    expected[links[1].id] -= 4
    it.inventory_receive(item=links[2].item, location=l2, uom=case, quantity=1)  # a case of 12, in the site
    expected[links[2].id] += 12
    it.inventory_move(item=links[3].item, uom=ea, from_location=l1, to_location=l2, quantity=3)  # inside: 0
    it.inventory_move(item=links[3].item, uom=ea, from_location=l1, to_location=l9, quantity=2)  # leaves
    expected[links[3].id] -= 2
    it.inventory_receive(item=links[4].item, location=l9, uom=ea, quantity=4)  # outside the scope
    it.inventory_move(item=links[4].item, uom=ea, from_location=l9, to_location=l1, quantity=1)  # comes in
    expected[links[4].id] += 1
    walk_in = PickingOrderFactory(division=config.default_division)  # not a store order
    line = PickingOrderLineFactory(order=walk_in, item=links[5].item, ordered_qty=3)
    it.order_pick(line=line, quantity=3, location=l1)
    expected[links[5].id] -= 3
    store_line = PickingOrderLine.objects.get(order__store_order_id=order.id, item=ordered.item)
    it.order_pick(line=store_line, quantity=2, location=l1)

    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    after = levels(server, StoreItemLink.objects.filter(store=store))
    assert {link_id: after[link_id] - before[link_id] for link_id in after if after[link_id] != before[link_id]} \
        == dict(expected)
    assert run.summary["write_requests"] == 1 and run.summary["store_order_picks_skipped"] == 1
    sent = {item.detail["ref"]: item.detail["delta"] for item in run.items.all()}
    assert sent == dict(expected)
    assert all(item.store_transaction_id for item in run.items.all())
    batch = AdjustmentBatch.objects.get(store=store)
    assert batch.state == AdjustmentBatch.State.SENT and batch.items_count == len(expected)

    # each ledger row once: a second run sends nothing
    again = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert again.summary["write_requests"] == 0 and again.items.count() == 0
    assert levels(server, StoreItemLink.objects.filter(store=store)) == after
    # and the next change goes out on its own
    it.inventory_adjust(item=links[0].item, location=l1, uom=ea, quantity_delta=1, reason="found one more")
    third = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert third.summary["write_requests"] == 1
    assert store_level(state, links[0]) == after[links[0].id] + 1


def test_more_items_than_a_request_holds_go_in_several_requests(shop_factory, monkeypatch):
    monkeypatch.setattr(adjustments, "BATCH", 3)
    monkeypatch.setattr(adjustments, "PAGE", 4)  # several ledger pages too
    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    links = stocked_links(store, server, 8)
    before = levels(server, links)
    for index, link in enumerate(links):
        it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                            quantity_delta=index + 1, reason="recount")
    # a move inside the scope of one item already in the last batch: it nets to 0 and adds no item
    it.inventory_move(item=links[7].item, uom=config.default_uom, from_location=config.default_location,
                      to_location=Location.objects.get(code="L2"), quantity=1)
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert levels(server, links) == {link.id: before[link.id] + index + 1 for index, link in enumerate(links)}
    assert run.summary["write_requests"] == 3
    batches = list(AdjustmentBatch.objects.filter(store=store).order_by("id"))
    assert [batch.items_count for batch in batches] == [3, 3, 2]
    assert all(b.last_ledger_id < n.first_ledger_id for b, n in zip(batches, batches[1:], strict=False))
    assert run_job(store, Job.EXPORT_ADJUSTMENTS).summary["write_requests"] == 0


@pytest.mark.parametrize("fault", [{"status": 500}, {"drop": True}], ids=["500", "dropped"])
def test_an_unknown_outcome_is_uncertain_never_resent_and_the_end_of_day_heals_it(shop_factory, client,
                                                                                  django_user_model, fault):
    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    link = stocked_links(store, server, 1)[0]
    before = store_level(server.state, link)
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=-3, reason="broken")
    server.add_fault_rule(method="POST", path=RELATIVE, **fault)
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    assert run.items.get().outcome == SyncRunItem.Outcome.UNCERTAIN
    batch = AdjustmentBatch.objects.get(store=store)
    assert batch.state == AdjustmentBatch.State.UNCERTAIN and batch.superseded_by is None
    # a 500 is answered before the store applies it; a dropped connection after
    applied = -3 if fault.get("drop") else 0
    assert store_level(server.state, link) == before + applied
    # never resent
    again = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert again.summary["write_requests"] == 0
    assert store_level(server.state, link) == before + applied
    # the Synchronization tab lists it until an End of Day covers it
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    page = client.get(reverse("configuration:sync", args=[store.pk])).content.decode()
    assert 'id="uncertain-adjustments"' in page and f"{batch.first_ledger_id}" in page
    eod = run_job(store, Job.EOD_EXPORT)
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    assert store_level(server.state, link) == before - 3
    batch.refresh_from_db()
    assert batch.superseded_by_id == eod.pk
    page = client.get(reverse("configuration:sync", args=[store.pk])).content.decode()
    assert 'id="uncertain-adjustments"' not in page


def test_an_end_of_day_supersedes_the_rows_before_its_snapshot(shop_factory):
    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    link = stocked_links(store, server, 1)[0]
    before = store_level(server.state, link)
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=5, reason="found")
    eod = run_job(store, Job.EOD_EXPORT)
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    assert store_level(server.state, link) == before + 5
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.summary["write_requests"] == 0 and store_level(server.state, link) == before + 5
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=2, reason="found more")
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.summary["write_requests"] == 1 and store_level(server.state, link) == before + 7


def test_a_dry_run_end_of_day_does_not_move_the_cursor(shop_factory):
    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    link = stocked_links(store, server, 1)[0]
    before = store_level(server.state, link)
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=4, reason="found")
    dry = run_job(store, Job.EOD_EXPORT, dry_run=True)
    assert dry.status == SyncRun.Status.SUCCEEDED, dry.error
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.summary["write_requests"] == 1 and store_level(server.state, link) == before + 4


def test_with_writes_off_nothing_is_sent_and_the_cursor_stays(shop_factory):
    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    link = stocked_links(store, server, 1)[0]
    before = store_level(server.state, link)
    cursor = StoreSyncState.objects.get(store=store).adjustments_cursor
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=6, reason="found")
    config.allow_writes_to_bigcommerce = False
    config.save()
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.summary["dry_run"] is True and "Allow writes" in run.summary["dry_run_reason"]
    assert run.summary["write_requests"] == 0 and store_level(server.state, link) == before
    assert StoreSyncState.objects.get(store=store).adjustments_cursor == cursor
    assert [(i.action, i.detail["delta"]) for i in run.items.all()] == [("dry_run", 6)]
    # the next dry run lists only what changed since this one
    again = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert again.summary["dry_run_from"] == run.summary["ledger_to"] and again.items.count() == 0
    config.allow_writes_to_bigcommerce = True
    config.save()
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.summary["write_requests"] == 1 and store_level(server.state, link) == before + 6


def test_an_item_the_store_refuses_is_reported_and_the_rest_is_sent(shop_factory):
    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    short, fine = stocked_links(store, server, 2)
    before = store_level(server.state, fine)
    # staff lowered the store's level by hand: taking 5 more would go below zero there
    server.state.set_stock(quantity=2, variant_id=short.variant_id)
    for link in (short, fine):
        it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                            quantity_delta=-5, reason="water damage")
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.PARTIAL, run.error
    assert store_level(server.state, short) == 2 and store_level(server.state, fine) == before - 5
    refused = run.items.get(outcome=SyncRunItem.Outcome.FAILED)
    assert refused.detail["ref"] == short.id and "below zero" in refused.reason
    assert run.items.get(outcome=SyncRunItem.Outcome.OK).detail["ref"] == fine.id
    assert run.summary["write_requests"] == 2  # the refused request and the resend without the item
    assert AdjustmentBatch.objects.get(store=store).refused == {str(short.id): refused.reason.split(" Not sent")[0]}
    assert run_job(store, Job.EXPORT_ADJUSTMENTS).summary["write_requests"] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ledger_write_in_flight_during_the_snapshot_is_neither_lost_nor_sent_twice(shop_factory):
    """Writer A takes a lower ledger id and commits late; writer B commits a higher id at once. The End of
    Day's snapshot must wait for A: were it taken without A, the cursor would move past A's row unsent."""
    import threading
    import time

    from django.db import connection, transaction

    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    slow, quick = stocked_links(store, server, 2)
    before = levels(server, [slow, quick])
    written = threading.Event()

    def writer_a():
        try:
            with transaction.atomic():
                it.inventory_adjust(item=slow.item, location=config.default_location, uom=config.default_uom,
                                    quantity_delta=5, reason="found, committed late")
                written.set()
                time.sleep(3)
        finally:
            connection.close()

    thread = threading.Thread(target=writer_a)
    thread.start()
    assert written.wait(10)
    it.inventory_adjust(item=quick.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=2, reason="found, committed at once")
    eod = run_job(store, Job.EOD_EXPORT)
    thread.join()
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert levels(server, [slow, quick]) == {slow.id: before[slow.id] + 5, quick.id: before[quick.id] + 2}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_send_to_the_store_now_from_the_adjust_page(page, live_server, shop_factory, operator_user):
    from celery.contrib.testing.worker import start_worker
    from playwright.sync_api import expect

    from itbc_portal.celery import app
    from tests.configuration.test_browser import log_in

    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    link = stocked_links(store, server, 1)[0]
    before = store_level(server.state, link)
    record = InventoryRecord.objects.get(item=link.item, location=config.default_location, uom=config.default_uom)
    log_in(page, live_server, operator_user, "pw-oscar-operator")
    page.goto(f"{live_server.url}{reverse('intellitrack:inventory-adjust', args=[record.pk])}")
    page.fill("input[name=quantity]", "-4")
    page.fill("input[name=reason]", "dropped a box")
    page.click("#adjust-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("sees this at the next End of Day")
    page.goto(f"{live_server.url}{reverse('intellitrack:inventory-adjust', args=[record.pk])}")
    form = page.locator("#store-visibility form[data-job=export_adjustments]")
    # every queue the runs are routed to (plugin.sync.queues)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=list(queues.ALL)):
        form.locator("button.job-button").click()
        expect(form.locator(".job-progress-text")).to_contain_text("Succeeded", timeout=30_000)
    run = SyncRun.objects.get(store=store, job=Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.SUCCEEDED and run.user == operator_user
    assert store_level(server.state, link) == before - 4


def test_a_request_the_store_never_applied_is_given_back_and_sent_by_the_next_run(shop_factory):
    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    link = stocked_links(store, server, 1)[0]
    before = store_level(server.state, link)
    cursor = StoreSyncState.objects.get(store=store).adjustments_cursor
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=3, reason="found")
    server.add_fault_rule(method="POST", path=RELATIVE, status=401)  # refused: nothing applied
    failed = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert failed.status == SyncRun.Status.FAILED and "401" in failed.error
    assert StoreSyncState.objects.get(store=store).adjustments_cursor == cursor
    assert not AdjustmentBatch.objects.filter(store=store).exists()
    run = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert store_level(server.state, link) == before + 3


class DiesAfterSending:
    """The sandbox client, but the worker dies right after the store applied the relative adjustment."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def adjust_relative(self, items, **kwargs):
        self._client.adjust_relative(items, **kwargs)
        raise SystemExit("worker killed")


def test_a_worker_killed_while_its_request_is_out_never_sends_it_again(shop_factory):
    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    link = stocked_links(store, server, 1)[0]
    before = store_level(server.state, link)
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=-2, reason="broken")
    run = job_trigger(store=store, job=Job.EXPORT_ADJUSTMENTS, trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    with pytest.raises(SystemExit):
        run_execute(run_id=run.pk, client=DiesAfterSending(sandbox_client(server)))
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.STALE)  # what runs_mark_stale does later
    assert store_level(server.state, link) == before - 2
    batch = AdjustmentBatch.objects.get(store=store)
    assert batch.state == AdjustmentBatch.State.SENDING
    again = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert again.status == SyncRun.Status.SUCCEEDED and again.summary["write_requests"] == 0
    assert store_level(server.state, link) == before - 2
    eod = run_job(store, Job.EOD_EXPORT)
    batch.refresh_from_db()
    assert batch.superseded_by_id == eod.pk and store_level(server.state, link) == before - 2


def test_a_failed_end_of_day_does_not_make_the_next_export_count_a_change_twice(shop_factory, monkeypatch):
    from plugin.sync.jobs import eod
    from tests.sync.test_eod_queries import StoreGoesDown

    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    monkeypatch.setattr(eod, "BATCH", 5)
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id"))
    first, later = links[0], links[-1]  # in the first and the last batch of the End of Day
    before = levels(server, [first, later])
    for link in (first, later):
        it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                            quantity_delta=7, reason="found")

    failed = run_job(store, Job.EOD_EXPORT, client=StoreGoesDown(sandbox_client(server), after=1))
    assert failed.status == SyncRun.Status.FAILED
    assert store_level(server.state, first) == before[first.id] + 7  # the absolute level held the +7
    assert store_level(server.state, later) == before[later.id]  # never reached
    export = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert export.status == SyncRun.Status.SUCCEEDED, export.error
    assert levels(server, [first, later]) == {first.id: before[first.id] + 7, later.id: before[later.id] + 7}


class LandsThenNoAnswer:
    """The sandbox client whose `fail_write`-th absolute-level request (and its resend) reaches the store
    but gets no answer back."""

    def __init__(self, client, *, fail_write: int, error):
        self._client, self.fail_write, self.writes, self.error = client, fail_write, 0, error

    def __getattr__(self, name):
        return getattr(self._client, name)

    def adjust_absolute(self, items, **kwargs):
        self.writes += 1
        result = self._client.adjust_absolute(items, **kwargs)
        if self.writes >= self.fail_write:
            raise self.error("Read timed out", method="PUT", path="/v3/inventory/adjustments/absolute")
        return result


@pytest.mark.parametrize("error", ["OutcomeUnknownError", "TransientError"])  # the latter: a dropped PUT
def test_a_batch_that_landed_without_an_answer_is_not_counted_again_by_the_export(shop_factory, monkeypatch,
                                                                                   error):
    from plugin.bigcommerce import errors
    from plugin.sync.jobs import eod

    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    monkeypatch.setattr(eod, "BATCH", 5)
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id"))
    second_batch = links[5]
    before = levels(server, [second_batch])
    it.inventory_adjust(item=second_batch.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=4, reason="found")

    failed = run_job(store, Job.EOD_EXPORT, client=LandsThenNoAnswer(sandbox_client(server), fail_write=2,
                                                                      error=getattr(errors, error)))
    assert failed.status == SyncRun.Status.FAILED
    assert store_level(server.state, second_batch) == before[second_batch.id] + 4  # it landed
    uncertain = failed.items.get(detail__ref=second_batch.id)
    assert uncertain.outcome == SyncRunItem.Outcome.UNCERTAIN

    export = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert export.status == SyncRun.Status.SUCCEEDED, export.error
    assert store_level(server.state, second_batch) == before[second_batch.id] + 4  # not +8


def test_an_end_of_day_killed_while_sending_holds_the_export_back_until_its_rerun(shop_factory, monkeypatch):
    """A worker that dies mid-run records nothing: the run goes stale with some levels in the store. The
    export must not add changes those levels already hold; the periodic check runs the End of Day again."""
    from plugin.sync import schedule
    from plugin.sync.jobs import eod

    store, server = live_shop(shop_factory)
    config = store.basic_configuration
    link = StoreItemLink.objects.filter(store=store).select_related("item").order_by("id").first()
    before = levels(server, [link])[link.id]
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=6, reason="found")

    class Killed(BaseException):
        """Stands for SIGKILL: no except-Exception handler of the run sees it."""

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(eod, "_record", killed)  # every level sent, then the worker dies
    with pytest.raises(Killed):
        run_job(store, Job.EOD_EXPORT)
    monkeypatch.undo()
    dead = SyncRun.objects.filter(store=store, job=Job.EOD_EXPORT).latest("pk")
    SyncRun.objects.filter(pk=dead.pk).update(status=SyncRun.Status.STALE)  # what the stale check does
    assert store_level(server.state, link) == before + 6  # the absolute level held the +6

    waiting = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert waiting.summary.get("waiting_for_end_of_day") is True
    assert store_level(server.state, link) == before + 6  # not +12

    executed = []
    result = schedule.eod_catch_up(execute=lambda run: executed.append(run_execute(run_id=run.pk)))
    assert len(result["rerun"]) == 1 and executed[0].status == SyncRun.Status.SUCCEEDED, executed[0].error
    assert executed[0].retry_of_id == dead.pk
    again = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert again.status == SyncRun.Status.SUCCEEDED and not again.summary.get("waiting_for_end_of_day")
    assert store_level(server.state, link) == before + 6
    assert schedule.eod_catch_up(execute=executed.append)["rerun"] == []  # the rerun ended: nothing more
