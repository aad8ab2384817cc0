"""API tokens: created for a user and shown once, stored only as a hash (django-rest-knox), revoked by
the characters they start with."""
import logging

from django.db import transaction
from knox.models import AuthToken

logger = logging.getLogger(__name__)


@transaction.atomic
def api_token_create(*, user, created_by=None) -> tuple[AuthToken, str]:
    """A new token for `user`, who must be active. Returns the stored row and the token text, which is
    not kept anywhere: show it once."""
    if not user.is_active:
        raise ValueError(f"{user.get_username()} is not an active user.")
    row, token = AuthToken.objects.create(user=user, expiry=None)
    logger.info("API token %s... created for %s by %s", row.token_key, user.get_username(),
                created_by or "a command")
    return row, token


@transaction.atomic
def api_token_revoke(*, token_key: str, user_id: int | None = None, revoked_by=None) -> int:
    """Delete the token(s) starting with `token_key` (of `user_id` when given). Returns how many."""
    tokens = AuthToken.objects.filter(token_key=token_key)
    if user_id is not None:
        tokens = tokens.filter(user_id=user_id)
    count, _ = tokens.delete()
    logger.info("API token %s... revoked by %s (%s rows)", token_key, revoked_by or "a command", count)
    return count
