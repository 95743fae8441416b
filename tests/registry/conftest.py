import pytest
from django.utils import translation


@pytest.fixture
def in_english():
    """The import tests assert messages in English (the default language is Chinese); a test that
    wants Chinese overrides it inside. Used by name (pytestmark), so it touches no other test here."""
    with translation.override("en"):
        yield
