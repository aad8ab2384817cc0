"""Run pages (list, detail, CSV, retry, progress) and the job buttons. Views check input and
permissions, then call a service or a selector."""
import csv
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from plugin.configuration.models import StoreConnection
from plugin.configuration.roles import role_needed_sentence
from plugin.portal.jobqueue import requires_job_queue
from plugin.portal.redirects import safe_redirect
from plugin.portal.spreadsheet import spreadsheet_cell

from . import presenters, runs, selectors
from .acknowledgements import run_acknowledge, runs_acknowledge_all
from .jobs.context import PrerequisiteMissing
from .models import SyncRun, SyncRunItem
from .services import RUNNABLE_JOBS, job_trigger, run_enqueue

VIEW_PERMISSION = "sync.view_syncrun"
RUN_JOBS_PERMISSION = "configuration.run_jobs"


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied(role_needed_sentence(permission))


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
    children = selectors.sync_run_children(parent_ids=[run.pk for run in page.rows if run.job in selectors.PARENT_JOBS])
    now = timezone.now()
    rows = [_run_row(run, now=now, children=[_run_row(child, now=now) for child in children.get(run.pk, [])])
            for run in page.rows]
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(request, "sync/run_list.html", {
        "page": page, "rows": rows, "stores": stores,
        "filters": {"store": store_id, "job": job, "status": status,
                    "from": request.GET.get("from", ""), "to": request.GET.get("to", "")},
        "jobs": SyncRun.Job.choices, "statuses": SyncRun.Status.choices, "query": query.urlencode(),
    })


@dataclass
class RunRow:
    """A run as the pages show it: the run, what happened in words, its duration."""

    run: SyncRun
    headline: str
    duration: str
    children: list = field(default_factory=list)

    @property
    def parent_id(self):
        parent = (self.run.options or {}).get("parent_run")
        return parent if isinstance(parent, int) else None


def _run_row(run: SyncRun, *, now, children=()) -> RunRow:
    if run.error:
        headline = presenters.error_sentence(run.error)
    elif run.status in SyncRun.ACTIVE_STATUSES:
        headline = presenters.progress_line(presenters.RunFacts.of(run)) + " so far."
    else:
        lines = presenters.run_summary_lines(presenters.RunFacts.of(run))
        headline = lines[0] if lines else ""
    seconds = presenters.run_seconds(started_at=run.started_at, finished_at=run.finished_at,
                                     now=now if run.status == SyncRun.Status.RUNNING else None)
    return RunRow(run=run, headline=headline, duration=presenters.duration_text(seconds), children=list(children))


def _item_filters(request) -> dict:
    outcome = request.GET.get("outcome", "")
    return {"outcome": outcome if outcome in SyncRunItem.Outcome.values else "",
            "changed_only": request.GET.get("changed") == "1"}


def _filter_query(filters: dict, **extra) -> str:
    params = {"outcome": filters["outcome"], "changed": "1" if filters["changed_only"] else "", **extra}
    return urlencode({name: value for name, value in params.items() if value})


@login_required
@require_GET
def run_detail(request, pk):
    _require(request, VIEW_PERMISSION)
    run = get_object_or_404(SyncRun.objects.select_related("store", "user", "retry_of"), pk=pk)
    filters = _item_filters(request)
    is_eod = run.job == SyncRun.Job.EOD_EXPORT
    if not is_eod:
        filters["changed_only"] = False
    page = selectors.sync_run_item_list(run=run, after=selectors.keyset_id(request.GET.get("after", "")), **filters)
    facts = presenters.RunFacts.of(run)
    now = timezone.now()
    columns = presenters.item_columns(run.job, dry_run=facts.dry_run)
    # The store transaction id is said once above the table when every row shown shares it.
    transactions = {item.store_transaction_id for item in page.rows}
    shared_transaction = transactions.pop() if len(transactions) == 1 else ""
    show_transaction_column = any(item.store_transaction_id for item in page.rows) and not shared_transaction
    if show_transaction_column:
        columns = [*columns, presenters.STORE_TRANSACTION]
    items = [_item_row(run, item, columns, show_transaction_column) for item in page.rows]
    if not is_eod and items:
        # A job without quantities (carriers, steps) leaves those columns empty: the page leaves them out.
        keep = [i for i, column in enumerate(columns) if i < 4 or any(row.cells[i][0] for row in items)]
        columns = [columns[i] for i in keep]
        for row in items:
            row.cells = [row.cells[i] for i in keep]
    can_run_jobs = request.user.has_perm(RUN_JOBS_PERMISSION)
    retryable = run.status in (SyncRun.Status.PARTIAL, SyncRun.Status.FAILED, SyncRun.Status.STALE)
    children = selectors.sync_run_children(parent_ids=[run.pk]).get(run.pk, [])
    return render(request, "sync/run_detail.html", {
        "run": run, "page": page, "items": items, "columns": columns, "filters": filters,
        "outcome": filters["outcome"], "outcomes": SyncRunItem.Outcome.choices,
        "filter_query": _filter_query(filters), "next_query": _filter_query(filters, after=page.next_cursor),
        "is_eod": is_eod, "changed_count": presenters.eod_changed_count(run.summary or {}) if is_eod else None,
        "is_failure": run.status in SyncRun.FAILURE_STATUSES,  # what may be acknowledged
        "shared_transaction": shared_transaction,
        "summary_lines": presenters.run_summary_lines(facts),
        "progress_text": presenters.progress_line(facts), "outcomes_text": presenters.outcomes_line(facts),
        "error_text": presenters.error_sentence(run.error),
        "duration": presenters.duration_text(presenters.run_seconds(
            started_at=run.started_at, finished_at=run.finished_at,
            now=now if run.status == SyncRun.Status.RUNNING else None)),
        "children": [_run_row(child, now=now) for child in children],
        "parent": selectors.sync_run_parent(run=run),
        "retries": run.retries.order_by("id"),
        # Retry names what it does: the failed items when some failed, else the whole job again.
        "can_retry": can_run_jobs and retryable and run.failed_count > 0 and not runs.run_items_pruned(run),
        "can_run_again": can_run_jobs and retryable and (not run.failed_count or runs.run_items_pruned(run)),
        "progress": selectors.sync_run_progress(run=run),
    })


@dataclass
class ItemRow:
    cells: list
    outcome: str
    changed: bool


def _item_row(run: SyncRun, item: SyncRunItem, columns, with_transaction: bool) -> ItemRow:
    cells = presenters.item_cells(run.job, key=item.key, action=item.action, outcome=item.outcome,
                                  reason=item.reason, quantity_before=item.quantity_before,
                                  quantity_after=item.quantity_after, detail=item.detail)
    if with_transaction:
        cells.append(item.store_transaction_id)
    change = presenters.item_change(quantity_before=item.quantity_before, quantity_after=item.quantity_after)
    shown = presenters.page_cells(columns, cells)
    return ItemRow(cells=[(text, column.numeric) for text, column in zip(shown, columns, strict=False)],
                   outcome=item.outcome, changed=bool(change))


# SKUs and reasons come from the store: text a spreadsheet would run as a formula opens as text.
csv_cell = spreadsheet_cell


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def run_items_csv(request, pk):
    """The run's items with the page's column names (and the store transaction on every row)."""
    _require(request, VIEW_PERMISSION)
    run = get_object_or_404(SyncRun, pk=pk)
    filters = _item_filters(request)
    if run.job != SyncRun.Job.EOD_EXPORT:
        filters["changed_only"] = False
    dry_run = bool(run.dry_run or (run.summary or {}).get("dry_run"))
    writer = csv.writer(_Echo())
    header = [column.name for column in presenters.item_columns(run.job, dry_run=dry_run)]
    header.append(presenters.STORE_TRANSACTION.name)

    def rows():
        yield writer.writerow(header)
        for key, action, outcome, reason, before, after, detail, transaction in selectors.sync_run_items_iter(
                run=run, **filters):
            cells = presenters.item_cells(run.job, key=key, action=action, outcome=outcome, reason=reason,
                                          quantity_before=before, quantity_after=after, detail=detail)
            yield writer.writerow([csv_cell(value if value is not None else "") for value in [*cells, transaction]])

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
    if (retry.options or {}).get("only_failed_of"):
        messages.success(request, f"Run #{retry.pk} retries the failed items of run #{run.pk}.")
    else:  # a failed or stale run stopped before its items: the whole job runs again
        messages.success(request, f"Run #{retry.pk} runs the job of run #{run.pk} again.")
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
