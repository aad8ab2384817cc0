"""The dashboard's charts and the store's error log, for the templates."""
from django import template

from plugin.portal.charts import store_chart
from plugin.portal.dashboard import failures_unacknowledged_count, store_error_log

register = template.Library()

ACKNOWLEDGE_PERMISSION = "configuration.run_jobs"


@register.filter
def charts_svg(days):
    """A store's 30-day chart as inline SVG (`days`: StoreRow.chart)."""
    return store_chart(days) if days else ""


@register.inclusion_tag("portal/_error_log.html", takes_context=True)
def error_log(context, store):
    """The store's Plugin Error Log: failed, partial, stale and missed runs, newest first."""
    request = context.get("request")
    user = getattr(request, "user", None)
    entries = store_error_log(store=store)
    return {
        "store": store,
        "entries": entries,
        "unacknowledged": failures_unacknowledged_count(store=store),
        "can_acknowledge": bool(user and user.has_perm(ACKNOWLEDGE_PERMISSION)),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
