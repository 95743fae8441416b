"""An app process's first request imports every route (the URLconf); what the reports add to that
wait must not include the spreadsheet library, which only an XLSX export needs (0.25 s to import,
paid by the first user of a freshly started process otherwise)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (
    "import os, sys\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dispatch.settings')\n"
    "import django\n"
    "django.setup()\n"
    "from django.urls import resolve\n"
    "resolve('/reports/')\n"
    "resolve('/api/reports/summary')\n"
    "print('openpyxl' in sys.modules)\n"
)


def test_loading_the_routes_does_not_import_openpyxl():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
