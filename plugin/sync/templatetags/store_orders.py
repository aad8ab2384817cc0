"""The store side of a picking order, for the IntelliTrack pages: `{% store_order_panel order %}` shows
the store order's status, its shipments from the Fulfillment export and a link to the store's control
panel. The IntelliTrack app names only this tag; it imports nothing from the sync app."""
from django import template

from ..selectors import store_order_fulfillment

register = template.Library()


@register.inclusion_tag("sync/_store_order_panel.html")
def store_order_panel(order):
    store = getattr(order, "source_store", None)
    if store is None or not order.store_order_id:
        return {"fulfillment": None}
    return {"fulfillment": store_order_fulfillment(store=store, store_order_id=order.store_order_id,
                                                  picking_order_id=order.pk)}
