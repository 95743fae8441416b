"""What an app node does when daphne loads it, before any request: every route imported (so the
first dispatcher after a restart or failover does not wait seconds for it) and the interpreter's
switch interval shortened for the event loop's sake (dispatch/asgi.py)."""

import subprocess
import sys

from django.conf import settings

PROBE = (
    "import sys; import dispatch.asgi; "
    "print('dispatch.api' in sys.modules, 'dispatch.reports.api' in sys.modules, sys.getswitchinterval())"
)


def test_loading_the_app_loads_every_route_and_shortens_the_switch_interval():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    api, reports, interval = done.stdout.split()
    assert (api, reports) == ("True", "True")
    assert float(interval) == settings.INTERPRETER_SWITCH_INTERVAL_S < 0.005
