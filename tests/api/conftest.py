import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .scenario import warehouse


@pytest.fixture
def wh(db):
    return warehouse()


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
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
