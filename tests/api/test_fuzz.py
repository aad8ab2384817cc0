"""schemathesis over the API schema: a bounded number of generated requests per operation, valid and
invalid, sent as a signed-in Admin (every permission). None may answer 500, and every answer must be one
the schema documents, in the shape it documents. ITBC_FUZZ_EXAMPLES sets the cases per operation."""
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .scenario import warehouse

# The same cases on every run (CI stays reproducible); ITBC_FUZZ_RANDOM=1 explores new ones.
DERANDOMIZE = os.environ.get("ITBC_FUZZ_RANDOM", "") != "1"
EXAMPLES = int(os.environ.get("ITBC_FUZZ_EXAMPLES", "40"))
CASES_RUN: dict[str, int] = {}


def _api_schema():
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator

    # The document /api/schema/ serves, generated here (it needs no database), sent to the portal's own
    # WSGI application in this process (every check's extra probes included).
    schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    schema.app = get_wsgi_application()
    schema.location = "/api/schema/"
    return schema


@pytest.fixture
def admin_token(admin_user_role):
    warehouse()
    _, token = AuthToken.objects.create(user=admin_user_role, expiry=None)
    return token


@pytest.fixture
def keep_test_connection():
    # As Django's test client does: keep the test's database connection open between requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def _report_cases():
    yield
    total = sum(CASES_RUN.values())
    print(f"\nAPI fuzz: {total} cases over {len(CASES_RUN)} operations, 0 answers of 500")


schema = _api_schema()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_answers_what_its_schema_declares(case, admin_token, keep_test_connection):
    key = case.operation.label
    CASES_RUN[key] = CASES_RUN.get(key, 0) + 1
    # Every check but one: an id the schema allows may name nothing, and that is a 400 with a reason
    # (tests/api cover it), which "schema-valid data is accepted" cannot know.
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"},
                           excluded_checks=[positive_data_acceptance])
