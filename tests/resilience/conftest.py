# The sync tests' store-with-sandbox fixture, for the kill tests here.
from tests.sync.conftest import shop_factory  # noqa: F401
