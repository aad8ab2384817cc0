"""The store's update_stock_behavior, as last read (by Test connection, or by End of Day and the auto-sync
cycle at their start), against the saved "Stock decreased when order placed": one warning, the same on
every tab and in `itbc store test`, saying that End of Day computes with what the store does."""
import pytest
from django.test import Client
from django.urls import reverse

from plugin.configuration.models import BasicConfiguration, StoreConnection

pytestmark = pytest.mark.django_db

EOD_FOLLOWS_THE_STORE = "End of Day and auto sync compute with what the store does"


def page_of(user, store, tab="sync") -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse(f"configuration:{tab}", args=[store.pk])).content.decode()


def read_by_a_job(store, behavior):
    """What the sync jobs save at the start of a run (no Test connection involved)."""
    StoreConnection.objects.filter(pk=store.pk).update(remote_update_stock_behavior=behavior)


@pytest.mark.parametrize("behavior, flag_on, store_does", [
    ("order_completed_or_shipped", True, "when an order is completed or shipped"),
    ("order_placed", False, "when an order is placed"),
])
def test_a_disagreement_read_by_a_job_is_a_warning_on_the_synchronization_tab(store, viewer_user, behavior,
                                                                              flag_on, store_does):
    BasicConfiguration.objects.filter(store=store).update(stock_decreased_when_order_placed=flag_on)
    read_by_a_job(store, behavior)
    page = page_of(viewer_user, store)
    assert 'id="stock-behavior-warning"' in page
    assert f"The store decreases stock {store_does} (update_stock_behavior {behavior}" in page
    assert f"&quot;Stock decreased when order placed&quot; is {'on' if flag_on else 'off'} here." in page
    assert EOD_FOLLOWS_THE_STORE in page
    cart = page_of(viewer_user, store, "cart")
    assert 'id="stock-behavior-warning"' in cart and EOD_FOLLOWS_THE_STORE in cart


@pytest.mark.parametrize("behavior, flag_on", [("order_placed", True), ("order_completed_or_shipped", False),
                                               ("", True), ("", False)])
def test_no_warning_when_they_agree_or_nothing_was_read(store, viewer_user, behavior, flag_on):
    BasicConfiguration.objects.filter(store=store).update(stock_decreased_when_order_placed=flag_on)
    read_by_a_job(store, behavior)
    assert 'id="stock-behavior-warning"' not in page_of(viewer_user, store)
