"""Shopper and staff actions under /_sandbox/, reset, and the `bigcommerce_sandbox` command."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests
from django.conf import settings

from tests.bigcommerce.sandbox.support import bc, sandbox_post


def test_staff_set_stock_out_of_band(sandbox):
    state = sandbox.state
    product = next(p for p in state.products.values() if p.inventory_tracking == "variant")
    variant = state.variants[product.variant_ids[0]]
    response = sandbox_post(sandbox, "stock", {"sku": variant.sku, "quantity": 13})
    assert response.status_code == 200 and response.json()["transaction_id"]
    item = bc(sandbox, "GET", f"/v3/inventory/items?sku:in={variant.sku}").json()["data"][0]
    assert item["locations"][0]["total_inventory_onhand"] == 13
    many = sandbox_post(sandbox, "stock", {"items": [{"location_id": 2, "variant_id": variant.id, "quantity": 4}]})
    assert many.status_code == 200 and state.on_hand(variant.id, 2) == 4
    refused = sandbox_post(sandbox, "stock", {"product_id": product.id, "quantity": 1})
    assert refused.status_code == 422


def test_python_api_for_tests(sandbox):
    state = sandbox.state
    product = next(p for p in state.products.values() if p.inventory_tracking == "product" and not p.has_options)
    state.set_stock(product_id=product.id, quantity=20)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 2}], status_id=11)
    assert state.on_hand(-product.id) == 18
    assert bc(sandbox, "GET", f"/v2/orders/{order.id}").json()["status_id"] == 11


def test_shopper_order_with_a_bad_item_is_refused(sandbox):
    assert sandbox_post(sandbox, "orders", {"items": [{"sku": "NOPE", "quantity": 1}]}).status_code == 422
    assert sandbox_post(sandbox, "orders", {"items": []}).status_code == 422
    sku = sandbox.state.variants[sandbox.state.variant_order[0]].sku
    for extra in ({"customer_id": "x"}, {"address": {"planet": "Mars"}}, {"status_id": 99}, {"items": "x"}):
        body = {"items": [{"sku": sku, "quantity": 1}], "allow_oversell": True, **extra}
        assert sandbox_post(sandbox, "orders", body).status_code == 422, extra
    placed = sandbox_post(sandbox, "orders", {"items": [{"sku": sku, "quantity": 1}], "allow_oversell": True,
                                              "address": {"city": "Tulsa", "state": "Oklahoma"}})
    address = bc(sandbox, "GET", f"/v2/orders/{placed.json()['id']}/shipping_addresses").json()[0]
    assert (address["city"], address["state"]) == ("Tulsa", "Oklahoma")
    assert requests.post(f"{sandbox.base_url}/_sandbox/orders", data="{", timeout=5).status_code == 400


def test_staff_change_an_order_status(sandbox):
    order_id = sandbox.state.order_ids[0]
    assert sandbox_post(sandbox, f"orders/{order_id}/status", {"status_id": 5}).json()["status_id"] == 5
    assert sandbox_post(sandbox, "orders/999999/status", {"status_id": 5}).status_code == 404


def test_reset_brings_back_the_generated_store(sandbox):
    state = sandbox.state
    before = state.summary()
    state.place_order(items=[{"sku": state.variants[state.variant_order[0]].sku, "quantity": 1}], allow_oversell=True)
    assert state.summary() != before
    assert sandbox_post(sandbox, "reset").status_code == 200
    assert sandbox.state.summary() == before
    assert bc(sandbox, "GET", "/v2/orders/count").json()["count"] == before["orders"]


def test_unknown_sandbox_action_is_404(sandbox):
    assert requests.get(f"{sandbox.base_url}/_sandbox/nothing", timeout=5).status_code == 404


def _start_command(*args: str, token: str | None = None) -> tuple[subprocess.Popen, dict]:
    env = {key: value for key, value in os.environ.items() if key != "ITBC_SANDBOX_TOKEN"}
    if token is not None:
        env["ITBC_SANDBOX_TOKEN"] = token
    process = subprocess.Popen(
        [sys.executable, "manage.py", "bigcommerce_sandbox", "--port", "0", *args],
        cwd=Path(settings.BASE_DIR), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    announced = {}
    while len(announced) < 3:
        line = process.stdout.readline()
        if not line:
            process.kill()
            raise AssertionError("the command ended before announcing itself")
        key, _, value = line.strip().partition(" ")
        if key in ("base_url", "store_hash", "token"):
            announced[key] = value
    return process, announced


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=20)


def test_the_command_serves_and_keeps_its_state_across_restarts(tmp_path):
    state_file = tmp_path / "store.json"
    options = ("--products", "60", "--orders", "10", "--seed", "4",
               "--store-hash", "cmdstore", "--state", str(state_file))
    # The token travels in the environment, never on the command line (where `ps` shows it).
    process, announced = _start_command(*options, token="cmd-token")
    try:
        assert "cmd-token" not in " ".join(psutil.Process(process.pid).cmdline())
        assert announced["store_hash"] == "cmdstore" and announced["token"] == "cmd-token"
        store_url = f"{announced['base_url']}/stores/cmdstore"
        response = requests.get(f"{store_url}/v2/store", headers={"X-Auth-Token": "cmd-token"}, timeout=5)
        assert response.status_code == 200 and response.json()["timezone"]["name"]
        assert response.headers["X-Rate-Limit-Requests-Quota"] == "150"
        assert requests.get(f"{store_url}/v2/store", headers={"X-Auth-Token": "x"}, timeout=5).status_code == 401
        first_item = requests.get(f"{store_url}/v3/inventory/items?limit=1", headers={"X-Auth-Token": "cmd-token"},
                                  timeout=5).json()["data"][0]
        sku = first_item["identity"]["sku"]
        moved = requests.post(f"{announced['base_url']}/_sandbox/stock", json={"sku": sku, "quantity": 31}, timeout=5)
        assert moved.status_code == 200, moved.text
    finally:
        assert _stop(process) == 0
    assert len(json.loads(state_file.read_text())["variants"]) == 60

    token_file = tmp_path / "token.txt"
    token_file.write_text("cmd-token\n")
    process, announced = _start_command(*options, "--token-file", str(token_file))
    try:
        assert announced["token"] == "cmd-token"
        item = requests.get(f"{announced['base_url']}/stores/cmdstore/v3/inventory/items?sku:in={sku}",
                            headers={"X-Auth-Token": "cmd-token"}, timeout=5).json()["data"][0]
        assert item["locations"][0]["total_inventory_onhand"] == 31
    finally:
        _stop(process)


def test_the_command_takes_fault_and_plan_options():
    process, announced = _start_command("--products", "30", "--orders", "0", "--plan", "pro",
                                        "--fault-5xx-rate", "1", "--seed", "9")
    try:
        response = requests.get(f"{announced['base_url']}/stores/{announced['store_hash']}/v2/time",
                                headers={"X-Auth-Token": announced["token"]}, timeout=5)
        assert response.status_code in (500, 502, 503)
        assert response.headers["X-Rate-Limit-Requests-Quota"] == "450"
    finally:
        _stop(process)


def test_the_command_saves_its_state_periodically(tmp_path):
    state_file = tmp_path / "periodic.json"
    process, announced = _start_command("--products", "20", "--orders", "2", "--state", str(state_file),
                                        "--save-every", "0.2")
    try:
        placed = requests.post(f"{announced['base_url']}/_sandbox/orders", timeout=5, json={
            "items": [{"variant_id": 1, "quantity": 1}], "allow_oversell": True})
        assert placed.status_code == 201
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if state_file.exists() and len(json.loads(state_file.read_text())["orders"]) == 3:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the running command never saved the new order")
    finally:
        _stop(process)


def test_the_command_takes_scripted_fault_rules():
    rule = '{"method": "GET", "path": "/v2/time", "status": 503, "times": 1}'
    process, announced = _start_command("--products", "10", "--orders", "0", "--fault-rule", rule)
    try:
        url = f"{announced['base_url']}/stores/{announced['store_hash']}/v2/time"
        headers = {"X-Auth-Token": announced["token"]}
        assert [requests.get(url, headers=headers, timeout=5).status_code for _ in range(2)] == [503, 200]
    finally:
        _stop(process)
