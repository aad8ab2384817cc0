"""Optional store webhooks (DESIGN decision 7): with a public URL configured (ITBC_PUBLIC_URL), the auto
sync cycle registers `store/order/created` and `store/order/updated` for the store, sending a secret
header; a delivery starts a cycle early. Polling stays the truth: a lost or forged hook changes nothing
a cycle would not do anyway, and a hook without the right secret is refused (401)."""
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import holds, runs
from .models import StoreSyncState, SyncRun

logger = logging.getLogger(__name__)

HOOK_SCOPES = ("store/order/created", "store/order/updated")
SECRET_HEADER = "X-Itbc-Hook-Secret"
WEBHOOK_MIN_GAP_SECONDS = 30


def webhook_destination(store) -> str:
    base = (getattr(settings, "ITBC_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}/hooks/bigcommerce/{store.pk}/" if base else ""


def webhooks_ensure(ctx) -> dict:
    """Register the order hooks once per public URL (a list request, and a create per missing scope);
    nothing without a public URL. Hooks of ours with a stale secret or destination are replaced."""
    destination = webhook_destination(ctx.store)
    if not destination:
        return {}
    state = holds.sync_state(ctx.store)
    if state.webhooks_destination == destination and state.webhook_secret:
        return {"webhooks": "registered"}
    secret = state.webhook_secret or secrets.token_urlsafe(32)
    ours = [hook for hook in ctx.client.list_hooks() if "/hooks/bigcommerce/" in str(hook.get("destination", ""))
            and str(hook.get("destination", "")).endswith(f"/{ctx.store.pk}/")]
    for hook in ours:
        ctx.client.delete_hook(hook["id"])
    for scope in HOOK_SCOPES:
        ctx.client.create_hook(scope=scope, destination=destination, headers={SECRET_HEADER: secret})
    StoreSyncState.objects.filter(pk=state.pk).update(webhook_secret=secret, webhooks_destination=destination)
    return {"webhooks": "registered now", "webhook_destination": destination}


@csrf_exempt
@require_POST
def webhook_receive(request, store_pk: int):
    """A store's order hook: checks the secret, then starts an auto sync cycle unless one is queued or
    running (202 either way). 401 without the right secret."""
    from .services import PrerequisiteMissing, job_trigger, sync_time_range_allows

    state = StoreSyncState.objects.select_related("store", "store__basic_configuration").filter(
        store_id=store_pk).first()
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
    if state is None or not state.webhook_secret or not hmac.compare_digest(given, state.webhook_secret.encode()):
        return HttpResponse("Unknown hook or wrong secret.", status=401, content_type="text/plain")
    config = getattr(state.store, "basic_configuration", None)
    if config is None or not (config.sync_enabled and config.auto_sync_enabled):
        return JsonResponse({"started": False, "reason": "Auto sync is off for this store."}, status=202)
    if not sync_time_range_allows(config):
        return JsonResponse({"started": False, "reason": "Outside the Sync Time Range."}, status=202)
    latest = SyncRun.objects.filter(store=state.store, job=SyncRun.Job.AUTO_SYNC).order_by("-created_at").first()
    if latest is not None and timezone.now() - latest.created_at < timedelta(seconds=WEBHOOK_MIN_GAP_SECONDS):
        # A burst of orders starts one cycle, not one each: the next scheduled cycle catches the rest.
        return JsonResponse({"started": False, "reason": "A cycle started moments ago."}, status=202)
    try:
        run = job_trigger(store=state.store, job=SyncRun.Job.AUTO_SYNC, trigger=SyncRun.Trigger.WEBHOOK)
    except runs.RunInProgress as exc:
        return JsonResponse({"started": False, "reason": str(exc)}, status=202)
    except PrerequisiteMissing as exc:
        return JsonResponse({"started": False, "reason": str(exc)}, status=202)
    return JsonResponse({"started": True, "run": run.pk}, status=202)
