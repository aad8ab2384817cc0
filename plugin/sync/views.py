"""Run pages (list, detail, CSV, retry, progress) and the job buttons. Views check input and
permissions, then call a service or a selector."""
import csv
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from plugin.configuration.models import StoreConnection
from plugin.portal.jobqueue import requires_job_queue
from plugin.portal.redirects import safe_redirect
from plugin.portal.spreadsheet import spreadsheet_cell

from . import runs, selectors
from .acknowledgements import run_acknowledge, runs_acknowledge_all
from .jobs.context import PrerequisiteMissing
from .models import SyncRun, SyncRunItem
from .services import RUNNABLE_JOBS, job_trigger, run_enqueue

VIEW_PERMISSION = "sync.view_syncrun"
RUN_JOBS_PERMISSION = "configuration.run_jobs"


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"Your role may not do this ({permission}).")


def _date(value):
    """A YYYY-MM-DD filter value, or None when it is not one. The first and last years are left out, so
    the day bounds the filters compute (the next midnight, the instant in another zone) stay in range."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and date.min.year < day.year < date.max.year else None


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_GET
def run_list(request):
    _require(request, VIEW_PERMISSION)
    stores = list(StoreConnection.objects.order_by("name"))
    store_id = request.GET.get("store", "")
    store = next((s for s in stores if str(s.pk) == store_id), None)
    job = request.GET.get("job", "") if request.GET.get("job", "") in SyncRun.Job.values else ""
    status = request.GET.get("status", "") if request.GET.get("status", "") in SyncRun.Status.values else ""
    date_from, date_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
    page = selectors.sync_run_list(store=store, job=job, status=status, date_from=date_from, date_to=date_to,
                                   cursor=request.GET.get("cursor", ""))
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(request, "sync/run_list.html", {
        "page": page, "stores": stores, "filters": {"store": store_id, "job": job, "status": status,
                                                   "from": request.GET.get("from", ""), "to": request.GET.get("to", "")},
        "jobs": SyncRun.Job.choices, "statuses": SyncRun.Status.choices, "query": query.urlencode(),
    })


@login_required
@require_GET
def run_detail(request, pk):
    _require(request, VIEW_PERMISSION)
    run = get_object_or_404(SyncRun.objects.select_related("store", "user", "retry_of"), pk=pk)
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in SyncRunItem.Outcome.values else ""
    after = request.GET.get("after", "")
    page = selectors.sync_run_item_list(run=run, outcome=outcome, after=selectors.keyset_id(after))
    return render(request, "sync/run_detail.html", {
        "run": run, "page": page, "outcome": outcome, "outcomes": SyncRunItem.Outcome.choices,
        "children": SyncRun.objects.filter(options__parent_run=run.pk).order_by("id"),
        "retries": run.retries.order_by("id"),
        "can_retry": request.user.has_perm(RUN_JOBS_PERMISSION)
        and run.status in (SyncRun.Status.PARTIAL, SyncRun.Status.FAILED, SyncRun.Status.STALE),
        "progress": selectors.sync_run_progress(run=run),
    })


# SKUs and reasons come from the store: text a spreadsheet would run as a formula opens as text.
csv_cell = spreadsheet_cell


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def run_items_csv(request, pk):
    _require(request, VIEW_PERMISSION)
    run = get_object_or_404(SyncRun, pk=pk)
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in SyncRunItem.Outcome.values else ""
    writer = csv.writer(_Echo())
    header = ["id", "key", "action", "outcome", "reason", "quantity_before", "quantity_after", "store_transaction_id"]

    def rows():
        yield writer.writerow(header)
        for row in selectors.sync_run_items_iter(run=run, outcome=outcome):
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-items.csv"'
    return response


@login_required
@require_GET
def run_progress(request, pk):
    _require(request, VIEW_PERMISSION)
    run = get_object_or_404(SyncRun, pk=pk)
    data = selectors.sync_run_progress(run=run)
    data["detail_url"] = reverse("sync:run-detail", args=[run.pk])
    return JsonResponse(data)


@login_required
@require_POST
@requires_job_queue
def run_retry(request, pk):
    _require(request, RUN_JOBS_PERMISSION)
    run = get_object_or_404(SyncRun.objects.select_related("store"), pk=pk)
    try:
        retry = runs.run_retry_failed(run=run, user=request.user)
    except runs.RunInProgress as exc:
        messages.error(request, str(exc))
        return redirect("sync:run-detail", pk=run.pk)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("sync:run-detail", pk=run.pk)
    run_enqueue(run=retry)
    messages.success(request, f"Run #{retry.pk} retries the failed items of run #{run.pk}.")
    return redirect("sync:run-detail", pk=retry.pk)


@login_required
@require_POST
@requires_job_queue
def job_start(request, store_pk, job):
    """A job button. JSON for the page's script (progress polling), a redirect otherwise."""
    _require(request, RUN_JOBS_PERMISSION)
    store = get_object_or_404(StoreConnection.objects.select_related("basic_configuration"), pk=store_pk)
    if job not in RUNNABLE_JOBS:
        raise Http404("No such job.")
    options = {}
    if request.POST.get("overwrite") == "confirmed":
        options["overwrite"] = True
    for name in ("min_date_created", "max_date_created"):
        value = _date(request.POST.get(name, ""))
        if value:
            options[name] = value.isoformat()
    dry_run = request.POST.get("dry_run") == "1"
    try:
        run = job_trigger(store=store, job=job, trigger=SyncRun.Trigger.MANUAL, user=request.user,
                          dry_run=dry_run, options=options)
    except PrerequisiteMissing as exc:
        return _refusal(request, store, str(exc), status=409)
    except runs.RunInProgress as exc:
        extra = {}
        if exc.run is not None:
            extra = {"run_id": exc.run.pk, "progress_url": reverse("sync:run-progress", args=[exc.run.pk]),
                     "detail_url": reverse("sync:run-detail", args=[exc.run.pk])}
        return _refusal(request, store, str(exc), status=409, **extra)
    if _wants_json(request):
        return JsonResponse({"run_id": run.pk, "progress_url": reverse("sync:run-progress", args=[run.pk]),
                             "detail_url": reverse("sync:run-detail", args=[run.pk])}, status=202)
    messages.success(request, f"Run #{run.pk} started: {run.get_job_display()}.")
    return redirect("sync:run-detail", pk=run.pk)


def _refusal(request, store, reason, *, status, **extra):
    if _wants_json(request):
        return JsonResponse({"error": reason, **extra}, status=status)
    messages.error(request, reason)
    return safe_redirect(request, request.POST.get("next", ""),
                         fallback=reverse("configuration:sync", args=[store.pk]))


# --- acknowledging failures (the Runs badge and the store's status light) ---------------------------------

@login_required
@require_POST
def run_acknowledge_view(request, pk):
    """An operator has seen this failed or partial run: it leaves the Runs badge."""
    _require(request, RUN_JOBS_PERMISSION)
    run = get_object_or_404(SyncRun, pk=pk)
    if run.status not in SyncRun.FAILURE_STATUSES:
        messages.error(request, f"Run #{run.pk} did not fail: there is nothing to acknowledge.")
    elif run_acknowledge(run=run, user=request.user):
        messages.success(request, f"Run #{run.pk} acknowledged.")
    else:
        messages.info(request, f"Run #{run.pk} was already acknowledged.")
    return safe_redirect(request, request.POST.get("next", ""), fallback=reverse("sync:run-detail", args=[run.pk]))


@login_required
@require_POST
def runs_acknowledge_all_view(request, store_pk):
    """Acknowledge every failure of a store nobody acknowledged yet (the error log's button)."""
    _require(request, RUN_JOBS_PERMISSION)
    store = get_object_or_404(StoreConnection, pk=store_pk)
    count = runs_acknowledge_all(user=request.user, store=store)
    messages.success(request, f"{count} failed run{'s' if count != 1 else ''} of {store.name} acknowledged."
                     if count else f"{store.name} has no failure left to acknowledge.")
    return safe_redirect(request, request.POST.get("next", ""),
                         fallback=reverse("configuration:logs", args=[store.pk]))
