import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from .scenario import warehouse


@pytest.fixture
def wh(db):
    return warehouse()


def _token_client(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user, expiry=None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def operator_api(operator_user):
    return _token_client(operator_user)


@pytest.fixture
def viewer_api(viewer_user):
    return _token_client(viewer_user)


@pytest.fixture
def nobody_api(django_user_model):
    return _token_client(django_user_model.objects.create_user("nobody", password="pw-nobody"))
