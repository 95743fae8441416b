"""What the alarm tests share: the scanner's pass at a moment after the state was made, and the
alarm events the log holds."""

from datetime import datetime, timedelta

from django.utils import timezone

from dispatch.alarms.scanner import scan
from dispatch.models import Alarm, Event


def scan_after(start: datetime, seconds: float) -> dict[str, int]:
    """One scanner pass as if `seconds` had passed since `start`."""
    return scan(now=start + timedelta(seconds=seconds))


def scan_now() -> dict[str, int]:
    return scan(now=timezone.now())


def open_kinds() -> list[tuple[str, int, int | None]]:
    return sorted((a.kind, a.incident_id, a.unit_id) for a in Alarm.objects.open())


def alarm_events(kind: str) -> list[Event]:
    return list(Event.objects.filter(kind=kind).order_by("seq"))


# Counts the chimes each kind makes (static/js/sound.js announces every one), from the first.
CHIME_PROBE = """
window.chimes = [];
document.addEventListener("chime", (event) => window.chimes.push(event.detail));
"""


def alarm_console(browser, url: str, user, width: int = 1600, height: int = 900):
    """A console page whose chimes are counted from the moment it opens."""
    from tests.support.browser import signed_in_page

    page = signed_in_page(browser, url, user, viewport={"width": width, "height": height})
    page.add_init_script(CHIME_PROBE)
    page.goto(f"{url}/console/")
    page.wait_for_selector("#console[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    return page


def alarm_chimes(page) -> int:
    return page.evaluate("window.chimes.filter((kind) => kind === 'alarm').length")


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def overlaps(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )
