"""The sandbox store's stock rules (DESIGN decision 18 relies on them) and per-channel inventory settings.

Each test states the rule it holds; expected levels are counted by hand from the units the test moves."""
import pytest

from plugin.bigcommerce.sandbox import generate
from plugin.bigcommerce.sandbox.state import StoreState
from tests.bigcommerce.sandbox.support import bc, sandbox_post

PLACED = "order_placed"
SHIPPED = "order_completed_or_shipped"


@pytest.fixture
def state() -> StoreState:
    return generate(products=40, orders=0, seed=5, locations=1)


def _item(state: StoreState, level: int = 50):
    product = next(p for p in state.products.values() if p.inventory_tracking == "product" and not p.has_options)
    state.set_stock(product_id=product.id, quantity=level)
    return product


def _ship(state: StoreState, order, quantity: int, line: int = 0):
    return state.create_shipment(order.id, {"order_address_id": order.addresses[0].id,
                                            "items": [{"order_product_id": order.products[line].id,
                                                       "quantity": quantity}]})


def _behaviour(state: StoreState, value: str, channel_id: int | None = None) -> None:
    state.update_inventory_settings({"update_stock_behavior": value}, channel_id)


# ----- (a) a shipped unit has always left the store's stock ---------------------------------------------

def test_a_shipment_takes_its_units_when_the_order_was_placed_under_the_other_behaviour(state):
    product = _item(state)
    _behaviour(state, SHIPPED)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 4}])
    assert state.on_hand(-product.id) == 50
    _behaviour(state, PLACED)  # the store switches; the open order took nothing
    _ship(state, order, 3)
    assert state.on_hand(-product.id) == 47
    assert order.products[0].quantity_deducted == 3 and order.status_id == 3


def test_a_shipment_of_an_order_that_took_nothing_at_placement_takes_the_shipped_units(state):
    product = _item(state)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 2}], status_id=0)
    assert state.on_hand(-product.id) == 50  # Incomplete takes nothing under order_placed
    _ship(state, order, 1)
    assert state.on_hand(-product.id) == 49


def test_a_shipment_never_takes_twice(state):
    product = _item(state)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 4}])
    assert state.on_hand(-product.id) == 46
    _ship(state, order, 4)
    assert state.on_hand(-product.id) == 46 and order.products[0].quantity_deducted == 4


# ----- (b) Shipped or Completed takes what was not taken yet, whatever the behaviour -----------------------

@pytest.mark.parametrize("closing_status", [2, 10])
@pytest.mark.parametrize("behaviour_when_closed", [PLACED, SHIPPED])
def test_closing_an_order_takes_what_it_has_not_taken(state, closing_status, behaviour_when_closed):
    product = _item(state)
    _behaviour(state, SHIPPED)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 5}])
    _ship(state, order, 2)
    assert state.on_hand(-product.id) == 48
    _behaviour(state, behaviour_when_closed)
    state.set_order_status(order.id, closing_status)
    assert state.on_hand(-product.id) == 45
    assert order.products[0].quantity_deducted == 5
    state.set_order_status(order.id, 11)
    state.set_order_status(order.id, closing_status)
    assert state.on_hand(-product.id) == 45  # nothing is taken twice


# ----- (c) Declined gives stock back like Cancelled and Refunded --------------------------------------------

@pytest.mark.parametrize("status_id", [4, 5, 6])
@pytest.mark.parametrize("refund_restocks", [True, False])
def test_refunded_cancelled_and_declined_give_stock_back_when_the_store_says_so(state, status_id, refund_restocks):
    product = _item(state)
    state.update_inventory_settings({"refund_order_stock_adjustment": refund_restocks})
    order = state.place_order(items=[{"product_id": product.id, "quantity": 5}])
    _ship(state, order, 1)
    assert state.on_hand(-product.id) == 45
    state.set_order_status(order.id, status_id)
    assert state.on_hand(-product.id) == (50 if refund_restocks else 45)
    assert order.products[0].quantity_deducted == (0 if refund_restocks else 5)


@pytest.mark.parametrize("status_id", [0, 4, 5, 6])
def test_placing_an_order_as_incomplete_refunded_cancelled_or_declined_takes_nothing(state, status_id):
    product = _item(state)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 3}], status_id=status_id)
    assert state.on_hand(-product.id) == 50 and order.products[0].quantity_deducted == 0


# ----- (d) a restocked order moved back to an open status takes nothing again -------------------------------

def test_a_restocked_order_reopened_does_not_take_stock_again(state):
    product = _item(state)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 3}])
    state.set_order_status(order.id, 6)
    assert state.on_hand(-product.id) == 50
    state.set_order_status(order.id, 11)
    assert state.on_hand(-product.id) == 50
    state.set_order_status(order.id, 5)  # a move between restock statuses gives nothing twice either
    assert state.on_hand(-product.id) == 50


# ----- channels ---------------------------------------------------------------------------------------------

def test_each_order_moves_stock_by_its_own_channels_behaviour(state):
    product = _item(state)
    _behaviour(state, SHIPPED, channel_id=2)
    assert state.effective_inventory_settings(2)["update_stock_behavior"] == SHIPPED
    assert state.effective_inventory_settings(1)["update_stock_behavior"] == PLACED
    assert state.effective_inventory_settings()["update_stock_behavior"] == PLACED
    on_one = state.place_order(items=[{"product_id": product.id, "quantity": 2}])
    on_two = state.place_order(items=[{"product_id": product.id, "quantity": 3}], channel_id=2)
    assert (on_one.channel_id, on_two.channel_id) == (1, 2)
    assert state.on_hand(-product.id) == 48  # only the channel-1 order took stock at placement
    _ship(state, on_two, 1)
    assert state.on_hand(-product.id) == 47


def test_a_channel_can_override_the_refund_setting(state):
    product = _item(state)
    state.update_inventory_settings({"refund_order_stock_adjustment": False}, channel_id=3)
    kept = state.place_order(items=[{"product_id": product.id, "quantity": 2}], channel_id=3)
    given_back = state.place_order(items=[{"product_id": product.id, "quantity": 4}])
    state.set_order_status(kept.id, 5)
    state.set_order_status(given_back.id, 5)
    assert state.on_hand(-product.id) == 48


def test_channel_ids_must_be_positive_integers(state):
    product = _item(state)
    for bad in (0, -1, "2", True):
        with pytest.raises(Exception, match="channel_id"):
            state.place_order(items=[{"product_id": product.id, "quantity": 1}], channel_id=bad)


def test_channels_and_overrides_survive_save_and_load(state, tmp_path):
    product = _item(state)
    _behaviour(state, SHIPPED, channel_id=2)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 1}], channel_id=2)
    state.save(str(tmp_path / "store.json"))
    loaded = StoreState.load(str(tmp_path / "store.json"))
    assert loaded.orders[order.id].channel_id == 2
    assert loaded.effective_inventory_settings(2)["update_stock_behavior"] == SHIPPED
    assert loaded.effective_inventory_settings(1)["update_stock_behavior"] == PLACED


def test_a_state_saved_before_channels_still_loads(state):
    product = _item(state)
    order = state.place_order(items=[{"product_id": product.id, "quantity": 1}])
    data = state.to_dict()
    del data["channel_inventory_settings"]
    for head, *_ in data["orders"]:
        head.pop()  # channel_id is the last order field
    loaded = StoreState.from_dict(data)
    assert loaded.orders[order.id].channel_id == 1 and loaded.channel_inventory_settings == {}


def test_settings_per_channel_over_http(sandbox):
    changed = bc(sandbox, "PUT", "/v3/settings/inventory?channel_id=2",
                 json={"update_stock_behavior": SHIPPED})
    assert changed.status_code == 200 and changed.json()["data"]["update_stock_behavior"] == SHIPPED
    assert bc(sandbox, "GET", "/v3/settings/inventory").json()["data"]["update_stock_behavior"] == PLACED
    two = bc(sandbox, "GET", "/v3/settings/inventory?channel_id=2").json()["data"]
    assert two == {**bc(sandbox, "GET", "/v3/settings/inventory").json()["data"], "update_stock_behavior": SHIPPED}
    bc(sandbox, "PUT", "/v3/settings/inventory", json={"refund_order_stock_adjustment": False})
    assert bc(sandbox, "GET", "/v3/settings/inventory?channel_id=2").json()["data"]["refund_order_stock_adjustment"] is False
    assert bc(sandbox, "GET", "/v3/settings/inventory?channel_id=0").status_code == 422

    product = next(p for p in sandbox.state.products.values()
                   if p.inventory_tracking == "product" and not p.has_options)
    sandbox.state.set_stock(product_id=product.id, quantity=20)
    placed = sandbox_post(sandbox, "orders", {"items": [{"product_id": product.id, "quantity": 2}], "channel_id": 2})
    assert placed.status_code == 201 and placed.json()["channel_id"] == 2
    assert sandbox.state.on_hand(-product.id) == 20
    order_id = placed.json()["id"]
    assert bc(sandbox, "GET", f"/v2/orders/{order_id}").json()["channel_id"] == 2
    assert [o["id"] for o in bc(sandbox, "GET", "/v2/orders?channel_id=2").json()] == [order_id]
    assert sandbox_post(sandbox, "orders", {"items": [{"product_id": product.id, "quantity": 1}],
                                            "channel_id": "two"}).status_code == 422
