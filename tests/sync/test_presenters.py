"""The run pages' words, on summaries copied from real runs of every job against the sandbox store
(tests/sync/fixtures/run_summaries.json, recorded by running each job as tests/sync/conftest.run_job does)."""
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plugin.sync import presenters
from plugin.sync.presenters import RunFacts, error_sentence, run_summary_lines

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "run_summaries.json").read_text())
REPR_MARKS = ("{", "}", "[", "]", "': ", "True", "False", "None", "_")  # "_": a summary key leaked


def facts(name: str) -> RunFacts:
    run = next(run for run in FIXTURES if run["name"] == name)
    return RunFacts(job=run["job"], summary=run["summary"], status=run["status"], dry_run=run["dry_run"],
                    total=run["total"], processed=run["processed"], succeeded=run["succeeded_count"],
                    failed=run["failed_count"], skipped=run["skipped_count"])


def lines(name: str) -> list[str]:
    return run_summary_lines(facts(name))


def test_product_import_says_what_it_created_and_skipped_in_products_and_items():
    assert lines("bootstrap step import_products") == [
        "Read 36 products from the store (1 page).",
        "Created 51 items in IntelliTrack.",
        "Skipped 4 untracked products: inventory tracking is off in the store.",
        "Item numbers come from the SKU.",
    ]
    run = facts("bootstrap step import_products")
    assert presenters.progress_line(run) == "36 of 36 products"  # progress counts products ...
    assert presenters.outcomes_line(run) == "51 items OK, 4 skipped, none failed."  # ... outcomes count items


def test_inventory_import_reads_as_stock_set_and_units_added_back():
    assert lines("bootstrap step import_inventory") == [
        "Set the stock of 46 items from the store's level.",
        "Skipped 5 items: the store holds none at this location.",
        "Counted 22 open store orders holding stock.",
        "Added back 105 units those orders hold: they are still on the shelf.",
        "Store inventory location 1.",
        "The store takes stock off when an order is placed.",
    ]


def test_carriers_orders_fulfillments_and_adjustments():
    assert lines("bootstrap step import_carriers") == ["Imported 11 carriers from 2 shipping zones."]
    assert lines("import_orders") == [
        "Imported 16 orders.",
        "4 order lines not managed in IntelliTrack (no item for the product).",
        "22 store orders hold stock.",
        "Statuses imported: Awaiting Fulfillment, Awaiting Shipment, Partially Shipped.",
        "The store takes stock off when an order is placed.",
    ]
    assert lines("export_fulfillments") == [
        "Sent 4 shipments to the store.", "Captured 4 picks from IntelliTrack.", "Queued 4 shipments.",
        "A shipment per pick.",
    ]
    assert lines("export_adjustments") == [
        "Sent 3 adjustments in 1 request.", "Read 3 IntelliTrack stock changes.", "Store inventory location 1.",
    ]
    assert lines("auto_sync step export_adjustments")[:3] == [
        "Sent no adjustments.", "Read 4 IntelliTrack stock changes.",
        "Left out 4 picks of store orders: the store already took that stock off.",
    ]
    assert presenters.outcomes_line(facts("auto_sync step import_orders")) == "0 orders OK, 16 skipped, none failed."


def test_end_of_day_real_and_dry_runs_give_the_drift_figure():
    dry = lines("eod_export dry run with drift")
    assert dry[:2] == ["Computed 51 levels; nothing was sent to the store (dry run).",
                       "6 items had drifted from the store's level."]
    assert "Dry run asked for." in dry[-1]
    real = lines("eod_export first real run")
    assert real[:2] == ["Sent 51 levels in 1 request.", "6 items had drifted from the last level known in the store."]
    assert "Orders were imported first (run #9)." in real
    assert presenters.eod_changed_count(facts("eod_export dry run with drift").summary) == 6


def test_bootstrap_and_cycle_name_their_steps():
    assert lines("bootstrap") == ["Ran 3 steps: Import Products, Import Inventory, Import Carriers."]
    assert lines("auto_sync") == ["Ran 4 steps: Import Orders, Import Products, Export Fulfillments, Export Adjustments."]
    failed = RunFacts(job="auto_sync", status="partial", summary={"steps": {"import_orders": 3},
                                                                   "failed_steps": ["import_orders"]})
    assert run_summary_lines(failed)[-1] == "Failed as a whole: Import Orders."


@pytest.mark.parametrize("name", [run["name"] for run in FIXTURES])
def test_no_internal_key_or_repr_reaches_the_page(name):
    run = facts(name)
    text = " ".join([*run_summary_lines(run), presenters.progress_line(run), presenters.outcomes_line(run)])
    for key in presenters.INTERNAL_KEYS | {"write_requests", "order_lines_held", "drifted_items", "changed_items"}:
        assert "_" not in key or key not in text
    for mark in REPR_MARKS:
        assert mark not in text, (mark, text)


def test_a_failed_run_with_no_summary_says_nothing_but_its_error():
    run = facts("import_orders with a refused token")
    assert run_summary_lines(run) == []
    recorded = next(r for r in FIXTURES if r["name"] == "import_orders with a refused token")["error"]
    assert recorded.startswith("BigCommerce refused the store's access token")
    assert "AuthError" not in recorded


def test_an_unknown_key_gets_a_readable_label_and_value():
    run = RunFacts(job="import_carriers", summary={"zones": 1, "carriers": 2, "methods_by_zone": {"us": 3, "eu": 1},
                                                   "new_flag": True, "skipped_codes": ["a", "b"], "nothing": None})
    assert run_summary_lines(run) == [
        "Imported 2 carriers from 1 shipping zone.",
        "Methods by zone: us: 3; eu: 1.", "New flag: yes.", "Skipped codes: a, b.", "Nothing: none.",
    ]


@pytest.mark.parametrize("stored, shown", [
    ("_StepFailed: Import Orders (BigCommerce -> IntelliTrack) failed (run #5): TransientError: GET /v2/orders "
     "got no answer (ReadTimeout).",
     "Import Orders (BigCommerce -> IntelliTrack) failed (run #5): The store did not answer in time: GET /v2/orders "
     "got no answer."),
    ("Unexpected error: KeyError: 'sku'", presenters.UNEXPECTED),
    ("AuthError: BigCommerce answered 401", "BigCommerce refused the store's access token or its permissions: "
                                            "BigCommerce answered 401."),
    ("PrerequisiteMissing: Import products first: no store product is linked.",
     "Import products first: no store product is linked."),
    ("Not started: lock held by run #4 (another run of this job for this store).",
     "Not started: lock held by run #4 (another run of this job for this store)."),
    ("", ""),
])
def test_errors_read_as_sentences(stored, shown):
    assert error_sentence(stored) == shown


def test_durations_and_the_item_cells_share_the_page_and_csv_columns():
    assert presenters.duration_text(0.42) == "0.4 s"
    assert presenters.duration_text(59.6) == "1 min 00 s"
    assert presenters.duration_text(185) == "3 min 05 s"
    assert presenters.duration_text(7440) == "2 h 04 min"
    assert presenters.duration_text(None) == ""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert presenters.run_seconds(started_at=start, finished_at=start + timedelta(seconds=90)) == 90
    assert presenters.run_seconds(started_at=None, finished_at=start) is None
    columns = presenters.item_columns("eod_export", dry_run=False)
    cells = presenters.item_cells("eod_export", key="SKU-1", action="set_level", outcome="ok", reason="",
                                  quantity_before=6, quantity_after=9,
                                  detail={"on_hand": 13, "held": 4, "before_source": "last_sent"})
    assert [c.name for c in columns] == ["Key", "Outcome", "Store level before", "Known from", "On-hand",
                                        "Held by open orders", "Level sent", "Change", "Reason"]
    assert cells == ["SKU-1", "OK", 6, "last sent", 13, 4, 9, 3, ""]
    assert presenters.page_cells(columns, cells)[7] == "+3"
    assert presenters.item_columns("eod_export", dry_run=True)[6].name == "Level to send"


def test_template_filters_for_other_pages():
    from datetime import UTC, datetime, timedelta

    from plugin.sync.models import SyncRun
    from plugin.sync.templatetags.run_pages import run_duration, run_error

    assert run_error("_StepFailed: Import Orders failed.") == "Import Orders failed."
    start = datetime(2026, 1, 1, tzinfo=UTC)
    run = SyncRun(status="succeeded", started_at=start, finished_at=start + timedelta(seconds=125))
    assert run_duration(run) == "2 min 05 s"
    assert run_duration(SyncRun(status="queued")) == ""


def test_steps_and_actions_keep_their_order_whatever_order_the_database_gives_the_keys():
    # jsonb returns keys shortest first: the steps come back out of the order they ran in.
    shuffled = RunFacts(job="bootstrap", summary={"steps": {"import_carriers": 4, "import_products": 2,
                                                            "import_inventory": 3}})
    assert run_summary_lines(shuffled) == ["Ran 3 steps: Import Products, Import Inventory, Import Carriers."]
    actions = RunFacts(job="import_products", processed=3, summary={"actions": {"skipped": 1, "created": 2}})
    assert run_summary_lines(actions)[1:] == ["Created 2 items in IntelliTrack.",
                                              "Skipped 1 untracked product: inventory tracking is off in the store."]
