"""Notification mails: a store's recipients (Basic Configuration) are told when a run fails or ends partly,
a run's worker dies, an End of Day is missed, a job cannot start for a missing prerequisite, or the store's
stock setting differs from the configuration.

Each place that detects one of these calls a `notice_*` function, which never raises and never waits on the
mail server: after the transaction commits it queues the `itbc.portal.notice_deliver` task (when the job
queue cannot be reached, it delivers in place, every error caught). Delivery throttles per store and cause:
at most one mail per ITBC_NOTICE_INTERVAL_MINUTES; the next one says how many were held back since when. A
mail that could not be sent is logged and counted like a held-back one, so the next notice tries again.
Held-back notices after which nothing more comes are mailed by `notice_flush` (beat) once their hour is over."""
import datetime as dt
import functools
import logging
import smtplib
import socket
import ssl
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from plugin.sync.models import SyncRun
from plugin.sync.presenters import error_sentence, job_name

from .models import NoticeState

logger = logging.getLogger(__name__)

NOTICE_TASK = "itbc.portal.notice_deliver"
NOTICE_FLUSH_TASK = "itbc.portal.notice_flush"
SUBJECT_PREFIX = "[itbc]"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class Cause:
    """What a notice is about: the first part of its throttle key (runs add their job: "run_failed:eod_export")."""

    RUN_FAILED = "run_failed"
    RUN_PARTIAL = "run_partial"
    RUN_STALE = "run_stale"
    PREREQUISITE = "prerequisite"
    EOD_MISSED = "eod_missed"
    STOCK_SETTING = "stock_setting"


class Delivery:
    SENT = "sent"
    HELD_BACK = "held back"
    NO_RECIPIENTS = "no recipients"
    NO_STORE = "no store"
    FAILED = "failed"


# Jobs whose items are their steps (child runs).
STEP_JOBS = (SyncRun.Job.AUTO_SYNC, SyncRun.Job.BOOTSTRAP)
# A reason longer than this (a store's whole answer) is cut: the run page has all of it.
REASON_LENGTH = 500


@dataclass
class Notice:
    """One notice, as queued: plain values only (it travels as the task's arguments)."""

    store_id: int
    cause: str
    title: str
    sentence: str
    link_path: str
    link_label: str
    occurred_at: str  # ISO 8601


# ----- sending a notice: what the detecting places call ---------------------------------------------------


def notice_send(*, store_id: int, cause: str, title: str, sentence: str, link_path: str, link_label: str = "",
                occurred_at: dt.datetime | None = None) -> None:
    """Queue a notice for after the current transaction commits. Never raises: a notice must not break
    the job that noticed something."""
    try:
        notice = Notice(store_id=store_id, cause=cause[:60], title=title, sentence=sentence, link_path=link_path,
                        link_label=link_label or "Open in the portal",
                        occurred_at=(occurred_at or timezone.now()).isoformat())
        transaction.on_commit(lambda: _notice_queue(notice), robust=True)
    except Exception:
        logger.exception("Notice %s for store %s could not be queued", cause, store_id)


def _notice_queue(notice: Notice) -> None:
    from celery import current_app

    from .jobqueue import queue_errors

    try:
        # By name: the sync services that call this never import the task module.
        current_app.signature(NOTICE_TASK, kwargs=asdict(notice)).delay()
    except queue_errors() as exc:
        logger.warning("Job queue not reachable (%s): delivering notice %s here", type(exc).__name__, notice.cause)
        notice_deliver(**asdict(notice))
    except Exception:
        logger.exception("Notice %s for store %s could not be queued", notice.cause, notice.store_id)


def _never_raises(hook):
    """A hook called by a job: whatever goes wrong in it is logged, never raised into the job."""

    @functools.wraps(hook)
    def guarded(**kwargs) -> None:
        try:
            hook(**kwargs)
        except Exception:
            logger.exception("Notice hook %s failed", hook.__name__)

    return guarded


def _run_reason(error: str) -> str:
    """A run's error as the run pages say it (no exception class names); a missing one said so."""
    text = error_sentence(error) or "No reason was recorded."
    return text if len(text) <= REASON_LENGTH else text[:REASON_LENGTH - 1].rstrip() + "\u2026"


def _run_path(run: SyncRun) -> str:
    return reverse("sync:run-detail", args=[run.pk])


@_never_raises
def notice_run_finished(*, run: SyncRun) -> None:
    """A run ended: a notice when it failed or ended partly. A step of a go-live import, an auto sync cycle
    or an End of Day is told through the run it belongs to; a run that failed because a prerequisite was
    missing is a prerequisite notice."""
    if run is None or run.status not in (SyncRun.Status.FAILED, SyncRun.Status.PARTIAL):
        return
    options, summary = run.options or {}, run.summary or {}
    if options.get("parent_run") or summary.get("lock_held_by"):
        return
    name = job_name(run.job)
    dry = " (dry run)" if run.dry_run else ""
    if summary.get("prerequisite_missing"):
        notice_send(store_id=run.store_id, cause=f"{Cause.PREREQUISITE}:{run.job}", title=f"{name} could not start",
                    sentence=f"{name}{dry} could not start: {_run_reason(run.error)}",
                    link_path=_run_path(run), link_label=f"Run #{run.pk}", occurred_at=run.finished_at)
    elif run.status == SyncRun.Status.FAILED:
        notice_send(store_id=run.store_id, cause=f"{Cause.RUN_FAILED}:{run.job}", title=f"{name} failed",
                    sentence=f"{name} run #{run.pk}{dry} failed: {_run_reason(run.error)}",
                    link_path=_run_path(run), link_label=f"Run #{run.pk}", occurred_at=run.finished_at)
    else:
        failed_steps = summary.get("failed_steps") or []
        counted = run.failed_count + run.succeeded_count + run.skipped_count
        if run.job in STEP_JOBS:  # its items are its steps, each a run of its own
            what = f"{run.failed_count} of its {counted} steps had failures"
            if failed_steps:
                what += f" ({', '.join(job_name(step) for step in failed_steps)} failed as a whole)"
                what += _step_errors(summary.get("steps") or {}, failed_steps)
        else:
            what = f"{run.failed_count} of {counted} items failed"
        notice_send(store_id=run.store_id, cause=f"{Cause.RUN_PARTIAL}:{run.job}", title=f"{name} ended partly",
                    sentence=f"{name} run #{run.pk}{dry} ended partly: {what}. The run lists each failed item "
                             "with its reason; \"Retry failed items\" sends them again.",
                    link_path=_run_path(run), link_label=f"Run #{run.pk}", occurred_at=run.finished_at)


def _step_errors(steps: dict, failed_steps: list[str]) -> str:
    """Why the failed steps failed (the first two), read from their runs: ". Import Orders: ...". One query,
    only when a cycle or go-live import ends with a step failed as a whole."""
    ids = [steps[job] for job in failed_steps if steps.get(job)][:2]
    errors = dict(SyncRun.objects.filter(pk__in=ids).values_list("job", "error"))
    return "".join(f". {job_name(job)}: {_run_reason(errors[job]).rstrip('.')}"
                   for job in failed_steps if errors.get(job))


@_never_raises
def notice_run_stale(*, run: SyncRun, why: str) -> None:
    """A run whose worker stopped reporting progress was marked stale."""
    if run is None or (run.options or {}).get("parent_run"):
        return
    name = job_name(run.job)
    notice_send(store_id=run.store_id, cause=f"{Cause.RUN_STALE}:{run.job}", title=f"{name} stopped",
                sentence=f"{name} run #{run.pk} did not finish: {_run_reason(why)} It can be run again.",
                link_path=_run_path(run), link_label=f"Run #{run.pk}")


@_never_raises
def notice_eod_missed(*, run: SyncRun | None) -> None:
    """An End of Day slot passed its grace period without a run (recorded as a missed run)."""
    if run is None:
        return
    notice_send(store_id=run.store_id, cause=Cause.EOD_MISSED, title="End of Day missed",
                sentence=f"{_run_reason(run.error)} The store's levels were not sent for that slot; the next "
                         "End of Day sends them.",
                link_path=_run_path(run), link_label=f"Run #{run.pk} (missed)", occurred_at=run.finished_at)


@_never_raises
def notice_stock_setting(*, ctx, behavior: str) -> None:
    """The store's real update_stock_behavior, just read by a run, differs from the configuration's flag."""
    from plugin.sync.holds import stock_behavior_warning

    warning = stock_behavior_warning(expected_order_placed=ctx.config.stock_decreased_when_order_placed,
                                     behavior=behavior)
    if warning:
        notice_send(store_id=ctx.store.pk, cause=Cause.STOCK_SETTING, title="Stock setting differs from the store",
                    sentence=f"{warning} Seen by {job_name(ctx.run.job)} run #{ctx.run.pk}.",
                    link_path=reverse("configuration:basic", args=[ctx.store.pk]),
                    link_label="Basic Configuration (\"Stock decreased when order placed\")")


# ----- delivering a notice: the task's work ---------------------------------------------------------------


def notice_interval() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "ITBC_NOTICE_INTERVAL_MINUTES", 60)))


def notice_deliver(*, store_id: int, cause: str, title: str, sentence: str, link_path: str, link_label: str,
                   occurred_at: str) -> str:
    """Mail one notice to the store's recipients, unless a mail of its cause went out within the interval:
    then it is counted (and kept) for the next one. Returns a Delivery value; a mail server's error is logged."""
    from plugin.configuration.models import StoreConnection

    store = StoreConnection.objects.select_related("basic_configuration").filter(pk=store_id).first()
    if store is None:
        return Delivery.NO_STORE
    recipients = _recipients(store)
    if not recipients:
        logger.info("Notice for store %s (%s) not mailed: no recipients are set", store.name, cause)
        return Delivery.NO_RECIPIENTS
    notice = Notice(store_id=store_id, cause=cause, title=title, sentence=sentence, link_path=link_path,
                    link_label=link_label, occurred_at=occurred_at)
    occurred = _moment(occurred_at)
    now = timezone.now()
    # Decide under the row lock and record the mail as sent before sending, so two workers never both send
    # one; the mail server is then talked to without holding any lock.
    with transaction.atomic():
        state, _ = NoticeState.objects.select_for_update().get_or_create(store=store, cause=cause)
        if state.last_sent_at is not None and now - state.last_sent_at < notice_interval():
            state.held_back += 1
            state.held_back_since = min(filter(None, [state.held_back_since, occurred]))
            state.last_notice = asdict(notice)
            state.save(update_fields=["held_back", "held_back_since", "last_notice"])
            return Delivery.HELD_BACK
        before = _mark_sent(state, now)
    return _send(store, recipients, state, notice, before=before, held_back=before.held_back,
                 held_back_since=before.held_back_since, now=now)


def notice_flush(*, now=None) -> dict:
    """Notices held back whose hour is over and after which nothing came: mail the last of each, counting
    the others, so a run of failures that stopped is still told. Called every few minutes by beat."""
    from plugin.configuration.models import StoreConnection

    now = now or timezone.now()
    due = NoticeState.objects.filter(held_back__gt=0).filter(
        Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - notice_interval())).exclude(last_notice={})
    result = {Delivery.SENT: 0, Delivery.FAILED: 0, Delivery.NO_RECIPIENTS: 0}
    stores = StoreConnection.objects.select_related("basic_configuration").in_bulk(
        set(due.values_list("store_id", flat=True)))
    for state_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            # skip_locked: a notice being delivered right now decides for itself.
            state = NoticeState.objects.select_for_update(skip_locked=True).filter(
                pk=state_id, held_back__gt=0).first()
            if state is None or (state.last_sent_at is not None and now - state.last_sent_at < notice_interval()):
                continue
            store = stores.get(state.store_id)
            recipients = _recipients(store) if store is not None else []
            if not recipients:
                result[Delivery.NO_RECIPIENTS] += 1
                continue
            notice = Notice(**state.last_notice)
            before = _mark_sent(state, now)
        # The last held-back notice is the mail's own; the ones before it are counted.
        outcome = _send(store, recipients, state, notice, before=before, held_back=before.held_back - 1,
                        held_back_since=before.held_back_since if before.held_back > 1 else None, now=now,
                        retried=True)
        result[outcome] += 1
    return result


def _recipients(store) -> list[str]:
    config = getattr(store, "basic_configuration", None)
    return config.notification_recipient_list if config is not None else []


@dataclass
class _Before:
    last_sent_at: dt.datetime | None
    held_back: int
    held_back_since: dt.datetime | None


def _mark_sent(state: NoticeState, now: dt.datetime) -> _Before:
    """Record a mail as going out now (inside the caller's locked transaction); returns what was there."""
    before = _Before(state.last_sent_at, state.held_back, state.held_back_since)
    state.last_sent_at, state.held_back, state.held_back_since = now, 0, None
    state.save(update_fields=["last_sent_at", "held_back", "held_back_since"])
    return before


def _send(store, recipients, state: NoticeState, notice: Notice, *, before: _Before, held_back: int,
          held_back_since, now: dt.datetime, retried: bool = False) -> str:
    occurred = _moment(notice.occurred_at)
    message = notice_message(store=store, recipients=recipients, title=notice.title, sentence=notice.sentence,
                             link_path=notice.link_path, link_label=notice.link_label, occurred=occurred,
                             held_back=held_back, held_back_since=held_back_since)
    try:
        message.send()
    except Exception as exc:
        reason = mail_error_sentence(exc)
        logger.warning("Notice for store %s (%s) not sent: %s", store.name, notice.cause, reason)
        # Undo "sent": the next notice (or the flush) goes out at once and counts this one and those held
        # back meanwhile. A retried (flushed) notice was already one of the held-back ones.
        since = min(filter(None, [before.held_back_since, occurred]))
        NoticeState.objects.filter(pk=state.pk, last_sent_at=now).update(last_sent_at=before.last_sent_at)
        NoticeState.objects.filter(pk=state.pk).update(
            held_back=F("held_back") + before.held_back + (0 if retried else 1), last_error=reason[:500])
        NoticeState.objects.filter(pk=state.pk, held_back_since__isnull=True).update(held_back_since=since)
        NoticeState.objects.filter(pk=state.pk, held_back_since__gt=since).update(held_back_since=since)
        if not retried:
            NoticeState.objects.filter(pk=state.pk).update(last_notice=asdict(notice))
        return Delivery.FAILED
    NoticeState.objects.filter(pk=state.pk).exclude(last_error="").update(last_error="")
    logger.info("Notice for store %s (%s) mailed to %d recipient(s)", store.name, notice.cause, len(recipients))
    return Delivery.SENT


def _moment(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return timezone.now()
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


def _local(moment: dt.datetime, zone: str) -> dt.datetime:
    try:
        return moment.astimezone(ZoneInfo(zone or "UTC"))
    except (ValueError, KeyError):
        return moment.astimezone(dt.UTC)


def portal_link(path: str) -> str:
    """An absolute link to a portal page (ITBC_PORTAL_URL, else ITBC_PUBLIC_URL); the path alone without one."""
    base = (getattr(settings, "ITBC_PORTAL_URL", "") or getattr(settings, "ITBC_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def notice_message(*, store, recipients: list[str], title: str, sentence: str, link_path: str, link_label: str,
                   occurred: dt.datetime, held_back: int = 0, held_back_since: dt.datetime | None = None,
                   ) -> EmailMultiAlternatives:
    """The mail for one notice, in plain text and HTML (templates/notifications/)."""
    config = getattr(store, "basic_configuration", None)
    zone = config.effective_eod_timezone if config is not None else store.timezone
    local = _local(occurred, zone)
    since = _local(held_back_since, zone) if held_back_since else None
    context = {
        "store": store,
        "store_label": store.name + (f" ({store.remote_store_name})" if store.remote_store_name else ""),
        "title": title,
        "sentence": sentence,
        "when": f"{local:%Y-%m-%d %H:%M} {zone}",
        "link_url": portal_link(link_path),
        "link_label": link_label,
        "links_complete": bool(portal_link("")),
        "held_back": held_back,
        "held_back_since": (since.strftime("%H:%M") if since and since.date() == local.date()
                            else since.strftime("%Y-%m-%d %H:%M") if since else ""),
        "configuration_url": portal_link(reverse("configuration:basic", args=[store.pk])),
        "interval_minutes": int(notice_interval().total_seconds() // 60),
    }
    subject = f"{SUBJECT_PREFIX} {store.name}: {title}"
    if held_back:
        subject += f" (and {held_back} more)"
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split())[:200],
        body=render_to_string("notifications/notice.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(render_to_string("notifications/notice.html", context), "text/html")
    return message


# ----- "Send test email" ----------------------------------------------------------------------------------


@dataclass
class TestEmailOutcome:
    sent: bool
    text: str

    @property
    def level(self) -> str:
        return "success" if self.sent else "error"


def notice_test_send(*, store, user=None) -> TestEmailOutcome:
    """Send a test mail to the store's saved recipients now and say what happened, as a sentence."""
    config = getattr(store, "basic_configuration", None)
    recipients = config.notification_recipient_list if config is not None else []
    if not recipients:
        return TestEmailOutcome(False, "No notification recipients are saved for this store: enter their addresses, "
                                       "press Save Configuration, then send a test email.")
    who = user.get_username() if user is not None and user.is_authenticated else "a command"
    message = notice_message(
        store=store, recipients=recipients, title="Test email",
        sentence=f"This is a test of the notification mails of store {store.name}, sent by {who}. Nothing "
                 "went wrong: notices of failed runs, missed End of Day runs, jobs that cannot start and "
                 "stock setting differences come to this address the same way.",
        link_path=reverse("configuration:basic", args=[store.pk]), link_label="Basic Configuration",
        occurred=timezone.now())
    try:
        message.send()
    except Exception as exc:
        logger.warning("Test email for store %s not sent: %s", store.name, mail_error_sentence(exc))
        return TestEmailOutcome(False, f"The test email was not sent: {mail_error_sentence(exc)}")
    addresses = ", ".join(recipients)
    if settings.EMAIL_BACKEND == CONSOLE_BACKEND:
        return TestEmailOutcome(True, f"Test email to {addresses} written to the portal's log: no mail server is "
                                      "configured (set EMAIL_URL or EMAIL_HOST to send real mail).")
    return TestEmailOutcome(True, f"Test email sent to {addresses}.")


def mail_error_sentence(exc: BaseException) -> str:
    """What went wrong with sending a mail, as a sentence for a person (never a password)."""
    smtp = settings.EMAIL_BACKEND == SMTP_BACKEND
    address = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    server = f"The mail server at {address}" if smtp else "The mail backend"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{server} refused the user name or password (EMAIL_HOST_USER, EMAIL_HOST_PASSWORD)."
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{server} refused the recipient address(es) {', '.join(sorted(exc.recipients))}."
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"{server} refused the sender address {exc.sender} (DEFAULT_FROM_EMAIL)."
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{server} does not support what was asked of it ({exc}); check EMAIL_USE_TLS and EMAIL_USE_SSL."
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{server} closed the connection unexpectedly; check the port and EMAIL_USE_TLS / EMAIL_USE_SSL."
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{server} answered {exc.smtp_code}: {' '.join(str(reply).split())[:300]}."
    if isinstance(exc, smtplib.SMTPException):
        return f"{server} answered with an error: {str(exc)[:300]}."
    if isinstance(exc, ssl.SSLError):
        return (f"The secure connection to {server[4:]} failed ({exc.reason or exc}); check EMAIL_USE_TLS, "
                "EMAIL_USE_SSL and the port.")
    if isinstance(exc, socket.gaierror):
        return f"The mail server's name {settings.EMAIL_HOST!r} could not be found (EMAIL_HOST)."
    if isinstance(exc, TimeoutError):
        return f"{server} did not answer within {settings.EMAIL_TIMEOUT or 'the'} seconds."
    if isinstance(exc, ConnectionRefusedError):
        return f"Nothing accepts connections at {address}: check EMAIL_HOST and EMAIL_PORT."
    if isinstance(exc, OSError):
        return f"{server} could not be reached ({exc.strerror or exc})."
    return f"{server} failed: {type(exc).__name__}: {str(exc)[:300]}."
