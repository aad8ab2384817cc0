"""The Synchronization tab's list of adjustment batches whose outcome is unknown."""
from django import template

from ..jobs.adjustments import adjustments_uncertain_list

register = template.Library()


@register.inclusion_tag("sync/_uncertain_adjustments.html")
def uncertain_adjustments(store):
    return {"store": store, "batches": list(adjustments_uncertain_list(store=store))}
