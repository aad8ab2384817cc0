"""The run list's rows, written in Python: a page nests up to 50 runs with their steps (250 rows for auto
sync cycles), and a row built with format_html costs a fraction of an included template's."""
from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..models import SyncRun
from ..presenters import duration_text, error_sentence, run_seconds

register = template.Library()
# Labels by value: get_FOO_display() hashes the field's choices on every call, three times a row.
JOBS, TRIGGERS, STATUSES = (dict((value, str(label)) for value, label in choices) for choices in
                            (SyncRun.Job.choices, SyncRun.Trigger.choices, SyncRun.Status.choices))

STATUS_CLASSES = {"succeeded": "text-bg-success", "partial": "text-bg-warning", "failed": "text-bg-danger",
                  "stale": "text-bg-danger", "missed": "text-bg-danger"}
HEADLINE_MAX = 160


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _detail_urls():
    """A run page's address by id from one reverse() (the rows need two each)."""
    head, _, tail = reverse("sync:run-detail", args=[0]).rpartition("/0/")
    return lambda pk: f"{head}/{int(pk)}/{tail}"


def _short(text: str) -> str:
    return text if len(text) <= HEADLINE_MAX else text[:HEADLINE_MAX - 1].rstrip() + "\u2026"


@register.simple_tag
def run_row(row, step=False, detail_url=None):
    """One run of the list (a RunRow): a step is indented under its parent and says so."""
    detail_url = detail_url or _detail_urls()
    run = row.run
    detail = detail_url(run.pk)
    attributes = format_html(' data-parent="{}"', row.parent_id) if row.parent_id else ""
    marker = (mark_safe('<span class="text-muted" aria-hidden="true">&#8627; </span>'  # noqa: S308 (constant)
                        '<span class="visually-hidden">Step: </span>') if step else "")
    dry = (mark_safe(' <span class="badge text-bg-info">dry run</span>')  # noqa: S308 (constant)
           if run.dry_run or (run.summary or {}).get("dry_run") else "")
    step_of = (format_html('<div class="small text-muted">step of <a href="{}">#{}</a></div>',
                           detail_url(row.parent_id), row.parent_id)
               if row.parent_id and not step else "")
    who = format_html(" ({})", run.user.get_username()) if run.user_id and run.user else ""
    return format_html(
        '<tr class="run-row{}" data-run="{}"{}>'
        '<td class="text-nowrap{}">{}<a href="{}">#{}</a></td>'
        "<td>{}</td><td>{}{}{}</td><td>{}{}</td>"
        '<td><span class="badge run-status {}">{}</span></td>'
        '<td class="run-headline{}">{}</td>'
        '<td class="text-end text-nowrap run-duration">{}</td>'
        '<td class="text-nowrap">{}</td></tr>',
        " run-step table-light" if step else "", run.pk, attributes,
        " ps-4" if step else "", marker, detail, run.pk,
        run.store.name, JOBS.get(run.job, run.job), dry, step_of, TRIGGERS.get(run.trigger, run.trigger), who,
        STATUS_CLASSES.get(run.status, "text-bg-secondary"), STATUSES.get(run.status, run.status),
        " text-danger" if run.error else "", _short(row.headline),
        row.duration or "\u2014", _moment(run.started_at or run.created_at),
    )


@register.simple_tag
def run_rows(rows):
    """Every run of the page, each followed by its steps."""
    detail_url = _detail_urls()

    def lines():
        for row in rows:
            yield (run_row(row, detail_url=detail_url),)
            for child in row.children:
                yield (run_row(child, step=True, detail_url=detail_url),)

    return format_html_join("\n", "{}", lines())


@register.filter
def run_error(text):
    """A run's stored error as the run pages say it (older runs stored exception class names)."""
    return error_sentence(text or "")


@register.filter
def run_duration(run):
    """How long a run took ("3 min 05 s"), or so far while it runs; "" before it starts."""
    now = timezone.now() if run.status == SyncRun.Status.RUNNING else None
    return duration_text(run_seconds(started_at=run.started_at, finished_at=run.finished_at, now=now))
