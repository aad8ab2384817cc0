"""Readers for the API token page and command."""
from django.contrib.auth import get_user_model
from knox.models import AuthToken


def api_token_list():
    """Every API token, newest first, with its user: the prefix is all that is known of the token."""
    return AuthToken.objects.select_related("user").order_by("-created")


def api_token_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")
