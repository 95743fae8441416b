"""The reference data beside the checkout (../shared/data: real road networks and an OSM
extract). A user's fresh machine does not have it, so a test that needs it skips, saying why."""

import os
from pathlib import Path

import pytest
from django.conf import settings

SHARED_DATA = Path(os.environ.get("SHARED_DATA", Path(settings.BASE_DIR).parent / "shared" / "data"))


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared reference data is not beside this checkout)")
    return path
