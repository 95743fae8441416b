"""What the console browser tests share: the demo city, a signed-in console, places the
dispatcher can find by typing their name, and a dispatcher's desk that works calls with the
keyboard the way tests/test_console_flow_browser.py does."""

import math
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.test import Client

from dispatch.models import Incident, Place, PlaceKind, User
from tests.support.browser import signed_in_page
from tests.support.page_waits import wait_until

# Counts the metronome's clicks as they are made to sound (its 1500 Hz oscillators; the console's
# chimes use other pitches), whatever the page shows: silence is checked, not assumed.
CLICK_PROBE = """
window.cprClicks = 0;
const startTone = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  if (this.frequency.value === 1500) window.cprClicks += 1;
  return startTone.apply(this, args);
};
document.addEventListener("cpr:beat", () => { window.cprBeats = (window.cprBeats || 0) + 1; });
"""


@pytest.fixture
def demo_city(triage_defaults) -> None:
    call_command("make_demo_city", verbosity=0)


def open_console(browser, live_url: str, user: User, width: int = 1600, height: int = 900):
    page = signed_in_page(browser, live_url, user, viewport={"width": width, "height": height})
    page.add_init_script(CLICK_PROBE)
    page.goto(f"{live_url}/console/")
    page.wait_for_selector("#console[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    return page


def distance_m(a: Place, b: Place) -> float:
    """Near enough for places a few kilometres apart (equirectangular)."""
    x = math.radians(b.point.x - a.point.x) * math.cos(math.radians((a.point.y + b.point.y) / 2))
    y = math.radians(b.point.y - a.point.y)
    return 6_371_000 * math.hypot(x, y)


def findable_places(user: User, count: int, apart_m: float = 700) -> list[Place]:
    """`count` landmarks, each the gazetteer's first answer to its own name and all at least
    `apart_m` apart, so no two calls at them look like duplicates (those are 300 m)."""
    client = Client()
    client.force_login(user)
    chosen: list[Place] = []
    for place in Place.objects.filter(kind=PlaceKind.LANDMARK).order_by("pk"):
        if any(distance_m(place, other) < apart_m for other in chosen):
            continue
        found = client.get("/api/places/search", {"q": place.name, "limit": 8}).json()
        if found and found[0]["id"] == place.pk:
            chosen.append(place)
        if len(chosen) == count:
            return chosen
    pytest.fail(f"the demo city has only {len(chosen)} landmarks the search finds first, {count} wanted")


@dataclass
class Desk:
    """One dispatcher at one console page, working calls with the keyboard."""

    page: object

    def press(self, *keys: str) -> None:
        for key in keys:
            self.page.keyboard.press(key)

    def new_call(self, caller: str) -> None:
        """N, the caller's number, Enter: the record exists once the number is in."""
        self.press("n")
        self.page.wait_for_selector("#intake:not([hidden]) #caller-number:focus")
        self.page.keyboard.type(caller)
        self.press("Enter")
        self.page.wait_for_selector("#place-search:focus")
        self.page.wait_for_selector("#triage .triage-picker")
        wait_until(self.page, "() => document.getElementById('intake-number').textContent.trim()")

    def locate(self, place: Place) -> None:
        """Type the place's name, take the first answer: the cursor lands in triage."""
        self.page.keyboard.type(place.name)
        self.page.wait_for_selector(f"#place-results li.active b:text-is('{place.name}')")
        self.press("Enter")
        self.page.wait_for_selector(f"#location-line:has-text('{place.name}')")
        self.page.wait_for_selector("#triage:focus")

    def triage(self, *keys: str) -> None:
        """Keys 1-9 (and Backspace) in the triage pane, then wait for the outcome to be shown."""
        self.press(*keys)
        self.page.wait_for_selector("#triage .triage-outcome")

    def ready_to_dispatch(self) -> None:
        """The outcome is recorded and the recommendation for it shown: Enter would send."""
        self.page.wait_for_selector("#dispatch-button:focus:not([disabled])")
        self.page.wait_for_selector("#recommendation table.units tbody tr.chosen")

    def dispatch(self) -> None:
        self.ready_to_dispatch()
        self.press("Enter")
        self.page.wait_for_selector("#intake", state="hidden")
        self.page.wait_for_selector("#detail:not([hidden]) .assignments li:not(.muted)")

    def leave(self, key: str) -> None:
        """Esc on a call with a record: the console asks. D discards it (closed: the caller hung
        up or gave up), K keeps it open in the list, Escape goes back to the call."""
        self.press("Escape")
        self.page.wait_for_selector("#discard-dialog[open] #discard-back:focus")
        self.press(key)
        self.page.wait_for_selector("#discard-dialog", state="hidden")
        if key != "Escape":
            self.page.wait_for_selector("#intake", state="hidden")

    def choose(self, *keys: str, text: str = "", then_another: bool = False) -> None:
        """In the open choice dialog: the keys (1-9 pick), then the text typed in its field,
        then Enter; it closes when the server has accepted (or, `then_another`, the next
        dialog of the same action takes its place)."""
        self.page.wait_for_selector("#choice-dialog[open] form")
        self.press(*keys)
        if text:
            self.page.focus("#choice-dialog input[name=text]")  # the field under the choices
            self.page.keyboard.type(text)
        self.press("Enter")
        if not then_another:
            self.page.wait_for_selector("#choice-dialog", state="hidden")

    def details(self, values: dict[str, str], where: str = "#detail-details", key: str = "e") -> None:
        """E (or F4), then every details field in order: the value typed (a select: ↓ that many
        times), Enter to save it and go on; the notes last, saved by Ctrl+Enter."""
        self.press(key)
        self.page.wait_for_selector(f"{where} [data-detail]:focus")
        for name in DETAIL_ORDER:
            self.page.wait_for_selector(f"{where} [data-detail='{name}']:focus")
            value = values.get(name, "")
            if name == "patient_sex":
                self.press(*["ArrowDown"] * {"": 0, "M": 1, "F": 2}[value])
            elif value:
                self.page.keyboard.press("Control+a")
                self.page.keyboard.type(value)
            self.press("Control+Enter" if name == "notes" else "Enter")
        wait_until(self.page, f"() => !document.querySelector('{where} [data-dirty]')")
        self.page.wait_for_selector(f"{where} .details-state:has-text('✓')")

    def cpr_beats(self) -> int:
        return self.page.evaluate("window.cprBeats || 0")

    def cpr_clicks(self) -> int:
        return self.page.evaluate("window.cprClicks")


# The details form's fields in the order Enter walks them (static/js/console-details.js).
DETAIL_ORDER = (
    "caller_name",
    "patient_name",
    "patient_sex",
    "patient_age",
    "patient_count",
    "address_building",
    "address_unit",
    "address_floor",
    "address_room",
    "access_notes",
    "hazards",
    "notes",
)


def listeners(page, target: str, kind: str = "keydown") -> int:
    """Listeners of one kind on the object the JS expression `target` names, as DevTools lists them."""
    cdp = page.context.new_cdp_session(page)
    try:
        found = cdp.send("Runtime.evaluate", {"expression": target})
        attached = cdp.send("DOMDebugger.getEventListeners", {"objectId": found["result"]["objectId"]})
        return sum(1 for listener in attached["listeners"] if listener["type"] == kind)
    finally:
        cdp.detach()


def no_browser_dialogs(page) -> list[str]:
    """Fail on a browser prompt(), confirm() or alert(): the console asks in its own dialogs."""
    asked: list[str] = []

    def refuse(dialog) -> None:
        asked.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", refuse)
    return asked


def show_incident(page, incident_id: int) -> None:
    """Click an incident of the open list: its detail, with its timeline read."""
    page.click(f"#incident-{incident_id}")
    page.wait_for_selector(f"#detail[data-incident='{incident_id}'] #timeline li:not(.muted)")


def incident_of(caller: str) -> Incident | None:
    return Incident.objects.filter(caller_number=caller).first()
