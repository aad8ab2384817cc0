"""Template context every page gets."""
from django.utils.functional import SimpleLazyObject

from .dashboard import failures_unacknowledged_count

RUNS_VIEW_PERMISSION = "sync.view_syncrun"


def unacknowledged_failures(request) -> dict:
    """`runs_badge`: how many failed or partial runs nobody acknowledged, for the Runs link of the top
    navigation. Lazy, so a page without the navigation (or a user who may not see runs) costs no query;
    one count on a partial index otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm(RUNS_VIEW_PERMISSION):
        return {"runs_badge": 0}
    return {"runs_badge": SimpleLazyObject(failures_unacknowledged_count)}
