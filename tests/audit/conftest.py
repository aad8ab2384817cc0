from tests.configuration.conftest import master, store  # noqa: F401  (shared fixtures)
