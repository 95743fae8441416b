"""A shift in one page: one dispatcher works 22 calls in a row in one console, never reloading,
with the keyboard.

Ten complaints (one found by typing in the complaint filter), an answer taken back with
Backspace, a telephone CPR call whose coaching outlives its dispatch and the next call until
it is ended, three intakes abandoned with Esc at different points, a repeat call linked to the
incident it repeats, and a unit chosen over the first recommended one with a reason. Between
calls, on the incident just sent: details typed with odd characters (in the intake and in the
detail), a unit stood down through the console's own dialog, another redirected to a second
hospital; an Esc pressed by mistake that goes back to the call; and the discarded call found
again by the search and reopened. Every record must hold exactly what was pressed and typed,
once; nothing else may be left behind.

What an abandoned intake leaves: nothing when nothing was typed; once the caller's number is
in, the record of the call (it exists from the moment there is something to write down): Esc
asks, and the record is either kept open (no location, priority or triage; once also located,
with its location) or discarded, closed as abandoned ("the caller hung up or gave up"), never
an untriaged open record the dispatcher did not choose to keep. Never a triage result or a unit.
"""

from dataclasses import dataclass

import pytest

from dispatch.models import Assignment, Event, Incident, IncidentStatus, Role, User
from fleet.models import Unit, UnitStatus
from hospitals.models import Hospital
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import Desk, demo_city, findable_places, incident_of, listeners, open_console  # noqa: F401
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERRIDE_REASON = "首选车辆正在加油"
# Typed on the keyboard into the details, odd characters and all.
DETAILS = {
    "caller_name": '王<b>先生</b> "老王"',
    "patient_name": "O'Brien 李 & 子",
    "patient_sex": "F",
    "patient_age": "82",
    "patient_count": "2",
    "address_building": "3栋/B座",
    "address_unit": "2单元",
    "address_floor": "-1",
    "address_room": "502<script>",
    "access_notes": "门禁 #1234；电梯坏了 — 走楼梯",
    "hazards": "大狗 🐕 在院子里 %s {0}",
    "notes": "家属在楼下等\n第二行 \\ end",
}
# Typed in the intake, before triage (F4 there, F4 back).
INTAKE_DETAILS = {"patient_name": "张三丰", "patient_age": "7"}
STAND_DOWN_KEY, STAND_DOWN_MORE = "1", "家属已送医"  # "Caller cancelled", and more about it


@dataclass(frozen=True)
class Call:
    """One call: how it ends, the keys pressed in triage and the triage they must record."""

    ends: str  # dispatch, override, cpr, duplicate, or abandoned: empty, number, triage
    keys: tuple[str, ...] = ()
    protocol: str = ""
    answers: tuple[int, ...] = ()
    filter: str = ""  # typed in the complaint filter (Tab, text, Enter) before the keys
    # Done on the incident once sent: details, stand_down, redirect, reopen (finds the call
    # discarded at REOPENED and reopens it); or in the intake: intake_details, esc_back.
    then: str = ""


CALLS = [
    Call("dispatch", ("1", "4"), "cardiac-arrest", (3,)),
    Call("dispatch", ("2", "3", "2", "1"), "chest-pain", (2, 1, 0), then="details"),
    Call("dispatch", ("3", "3", "1", "1"), "stroke", (2, 0, 0), then="intake_details"),
    Call("empty"),
    Call("dispatch", ("4", "3", "2", "2"), "breathing", (2, 1, 1)),
    Call("cpr", ("2", "1"), "chest-pain", (0,)),
    Call("dispatch", ("5", "2"), "choking", (1,)),  # while the CPR dock runs; ended after it
    Call("override", ("6", "3", "2"), "unconscious", (2, 1)),
    Call("triage", ("7", "2")),  # abandoned half-way through triage
    Call("duplicate"),  # the second call's number, at the second call's place
    Call("dispatch", ("7", "2", "2", "1"), "traffic-trauma", (1, 1, 0), then="stand_down"),
    Call("dispatch", ("8", "2", "2", "3"), "fall", (1, 1, 2), then="esc_back"),
    Call("dispatch", ("9", "1", "2"), "bleeding", (0, 1), then="redirect"),
    Call("dispatch", ("2", "2", "1"), "allergy", (1, 1, 0), filter="allergy"),
    Call("number"),  # discarded: closed as abandoned
    Call("dispatch", ("2", "3", "Backspace", "3", "2", "2"), "chest-pain", (2, 1, 1)),
    Call("dispatch", ("3", "3", "2"), "stroke", (2, 1), then="reopen"),
    Call("dispatch", ("1", "3"), "cardiac-arrest", (2,)),
    Call("dispatch", ("4", "3", "1"), "breathing", (2, 0)),
    Call("dispatch", ("6", "3", "1"), "unconscious", (2, 0)),
    Call("dispatch", ("8", "2", "1"), "fall", (1, 0)),
    Call("dispatch", ("7", "1"), "traffic-trauma", (0,)),
]
SENT = {"dispatch", "override", "cpr"}  # 18 of the demo city's 40 units: none needs freeing
REPEATED = 1  # the call the duplicate repeats (0-based)
REOPENED = 14  # the discarded call, found again and reopened


def caller_of(index: int, call: Call) -> str:
    return caller_of(REPEATED, CALLS[REPEATED]) if call.ends == "duplicate" else f"138000000{index + 1:02d}"


class Shift:
    """The dispatcher's shift: the desk, the places, and which incident each call left."""

    def __init__(self, desk: Desk, places: list) -> None:
        self.desk = desk
        self.page = desk.page
        self.places = iter(places)
        self.place_of: dict[int, object] = {}
        self.incident_of: dict[int, int | None] = {}

    def work(self, index: int, call: Call) -> None:
        caller = caller_of(index, call)
        if call.ends == "empty":
            self.desk.press("n")
            self.page.wait_for_selector("#intake:not([hidden])")
            self.abandon()
            self.incident_of[index] = None
            return
        known = set(Incident.objects.filter(caller_number=caller).values_list("pk", flat=True))
        self.desk.new_call(caller)
        incident = self.recorded(caller, known)
        self.incident_of[index] = incident.pk
        if call.ends == "number":
            self.desk.leave("d")  # discard: the caller hung up
            return
        place = self.place_of[REPEATED] if call.ends == "duplicate" else next(self.places)
        self.place_of[index] = place
        self.desk.locate(place)
        if call.then in ("intake_details", "esc_back"):
            getattr(self, call.then)(index)
        getattr(self, call.ends)(index, call)
        if call.then in ("details", "stand_down", "redirect", "reopen"):
            getattr(self, call.then)(index)

    def intake_details(self, index: int) -> None:
        """While the caller speaks: F4 into the details, the patient's name and age, F4 back to triage."""
        self.desk.details(INTAKE_DETAILS, where="#intake-details", key="F4")
        self.desk.press("F4")
        self.page.wait_for_selector("#triage:focus")
        incident = Incident.objects.get(pk=self.incident_of[index])
        assert (incident.patient_name, incident.patient_age) == ("张三丰", 7)

    def esc_back(self, index: int) -> None:
        """Esc by mistake: the console asks, Esc again goes back to the call where it was."""
        self.desk.leave("Escape")
        self.page.wait_for_selector("#intake:not([hidden]) #triage:focus")

    def details(self, index: int) -> None:
        """On the incident just sent: E, every detail typed, odd characters and all."""
        self.desk.details(DETAILS)
        self.desk.press("Escape")  # out of the notes: the keys are the console's again
        incident = Incident.objects.get(pk=self.incident_of[index])
        typed = {**DETAILS, "patient_age": 82, "patient_count": 2}
        assert {name: getattr(incident, name) for name in DETAILS} == typed

    def stand_down(self, index: int) -> None:
        """S: the stand-down dialog; 1 (the caller cancelled), a few words more, Enter."""
        assignment = Assignment.objects.select_related("unit").get(incident_id=self.incident_of[index])
        self.desk.press("s")
        self.desk.choose(STAND_DOWN_KEY, text=STAND_DOWN_MORE)
        self.page.wait_for_selector(
            f"#detail .assignments li.cancelled:has-text('{assignment.unit.call_sign}')"
        )
        assignment.refresh_from_db()
        assert assignment.cancelled_at is not None
        assert assignment.cancel_reason == f"呼救者取消: {STAND_DOWN_MORE}"
        assert Unit.objects.get(pk=assignment.unit_id).status == UnitStatus.AVAILABLE

    def redirect(self, index: int) -> None:
        """R: the hospitals ranked for the incident, the one it goes to now greyed; the first other."""
        assignment = Assignment.objects.get(incident_id=self.incident_of[index])
        self.desk.press("r")
        self.page.wait_for_selector("#choice-dialog[open] .choices li")
        radios = "[...document.querySelectorAll('#choice-dialog input[name=choice]')]"
        key = self.page.evaluate(f"{radios}.findIndex((r) => !r.disabled) + 1")
        name = self.page.inner_text(f"#choice-dialog .choices li:nth-child({key}) .choice-label")
        self.desk.choose(str(key))
        self.page.wait_for_selector(f"#detail .assignments li.live:has-text('{name}')")
        assignment.refresh_from_db()
        assert assignment.hospital == Hospital.objects.get(name=name)
        assert (
            Event.objects.filter(incident_id=assignment.incident_id, kind="assignment.redirected").count()
            == 1
        )

    def reopen(self, index: int) -> None:
        """F: the discarded call found by its number; Enter, Enter; O reopens it with a reason."""
        discarded = Incident.objects.get(pk=self.incident_of[REOPENED])
        assert (discarded.status, discarded.outcome) == (IncidentStatus.CLOSED, "abandoned")
        self.desk.press("f")
        self.page.wait_for_selector("#search-dialog[open] input[name=q]:focus")
        self.page.keyboard.type(caller_of(REOPENED, CALLS[REOPENED]))
        self.desk.press("Enter")
        self.page.wait_for_selector(f"#search-results button.found:focus:has-text('{discarded.number}')")
        self.desk.press("Enter")
        self.page.wait_for_selector(
            f"#detail-main:has(.incident-number:text-is('{discarded.number}')) .closed-banner"
        )
        self.desk.press("o")
        self.desk.choose("1")
        self.page.wait_for_selector(f"#incident-{discarded.pk}")  # in the open list again
        discarded.refresh_from_db()
        assert (discarded.status, discarded.outcome, discarded.closed_at) == (IncidentStatus.OPEN, "", None)

    def recorded(self, caller: str, known: set[int]) -> Incident:
        """The record the caller's number opened (new_call waits for its number on screen)."""
        incident = Incident.objects.filter(caller_number=caller).exclude(pk__in=known).first()
        assert incident is not None, f"no record for {caller}"
        return incident

    def abandon(self) -> None:
        self.desk.press("Escape")
        self.page.wait_for_selector("#intake", state="hidden")

    def answer(self, index: int, call: Call) -> None:
        """The keys, then the outcome recorded: exactly the answers pressed, at once."""
        if call.filter:
            self.desk.press("Tab")  # from the triage pane into its complaint filter
            self.page.keyboard.type(call.filter)
            self.desk.press("Enter")
        self.desk.triage(*call.keys)
        self.desk.ready_to_dispatch()
        recorded = Incident.objects.get(pk=self.incident_of[index]).triage_answers
        assert (recorded.get("protocol"), recorded.get("answers")) == (call.protocol, list(call.answers)), (
            f"call {index + 1}: pressed {' '.join(call.keys)} for {call.protocol} {list(call.answers)}, "
            f"recorded {recorded.get('protocol')} {recorded.get('answers')}"
        )

    def dispatch(self, index: int, call: Call) -> None:
        self.answer(index, call)
        self.desk.dispatch()
        self.end_cpr_if_docked(index)

    def triage(self, index: int, call: Call) -> None:
        self.desk.press(*call.keys)
        self.page.wait_for_selector("#triage .triage-question")
        self.desk.leave("k")  # kept open in the list

    def override(self, index: int, call: Call) -> None:
        self.answer(index, call)
        second = self.page.inner_text("#recommendation table.units tbody tr:nth-child(2) td:nth-child(2)")
        self.desk.press("Alt+2")
        self.page.wait_for_selector("#override-reason:focus")
        self.page.keyboard.type(OVERRIDE_REASON)
        self.desk.press("Enter")
        self.page.wait_for_selector("#intake", state="hidden")
        self.page.wait_for_selector(f"#detail .assignments li:has-text('{second}')")
        assignment = Assignment.objects.select_related("unit").get(incident_id=self.incident_of[index])
        assert (assignment.unit.call_sign, assignment.recommended_rank) == (second, 2)
        assert assignment.override_reason == OVERRIDE_REASON

    def duplicate(self, index: int, call: Call) -> None:
        """The repeat call: the console offers the earlier incident; Shift+Tab, Enter links it."""
        earlier = Incident.objects.get(pk=self.incident_of[REPEATED])
        self.page.wait_for_selector(f"#duplicates:not([hidden]) .dup:has-text('{earlier.number}')")
        self.page.wait_for_selector("#dispatch-button:not([disabled])")  # Enter could send a unit now
        self.desk.press("Shift+Tab")  # from the triage pane back to the box's button
        assert self.page.evaluate("document.activeElement.className") == "link-dup"
        self.desk.press("Enter")
        self.page.wait_for_selector("#intake", state="hidden")
        self.page.wait_for_selector(f"#detail .incident-number:text-is('{earlier.number}')")
        assert not Assignment.objects.filter(incident_id=self.incident_of[index]).exists()

    def cpr(self, index: int, call: Call) -> None:
        """M starts the beat, Enter sends the unit: the coaching goes on in the dock."""
        self.answer(index, call)
        self.desk.press("m")
        self.page.wait_for_selector("#triage .cpr[data-state='running']")
        wait_until(self.page, "() => (window.cprBeats || 0) >= 2")
        self.desk.dispatch()
        number = Incident.objects.get(pk=self.incident_of[index]).number
        self.page.wait_for_selector(f"#cpr-dock:has-text('{number}') .cpr[data-state='running']")
        assert self.page.is_visible("#cpr-dock .cpr-end")
        beats = self.desk.cpr_beats()
        wait_until(self.page, f"() => window.cprBeats >= {beats + 2}")  # still coaching

    def end_cpr_if_docked(self, index: int) -> None:
        """After the call that followed the CPR call: End (Tab from the dock, Enter), silence."""
        if CALLS[index - 1].ends != "cpr":
            return
        assert self.page.locator("#cpr-dock .cpr[data-state='running']").count() == 1
        self.desk.press("Tab")
        assert self.page.evaluate("document.activeElement.className") == "cpr-end"
        self.desk.press("Enter")
        self.page.wait_for_selector("#cpr-dock", state="detached")
        self.page.wait_for_timeout(200)  # a click already queued on the audio clock may sound
        beats, clicks = self.desk.cpr_beats(), self.desk.cpr_clicks()
        self.page.wait_for_timeout(1200)  # two beats' time
        assert (self.desk.cpr_beats(), self.desk.cpr_clicks()) == (beats, clicks)
        assert self.page.locator(".cpr-running, .cpr[data-state='running']").count() == 0


def test_one_page_works_a_whole_shift_of_calls(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    located = sum(1 for call in CALLS if call.ends not in ("empty", "number", "duplicate"))
    page = open_console(browser, live_url, alice)
    shift = Shift(Desk(page), findable_places(alice, located))
    on_the_page = listeners(page, "document")
    for index, call in enumerate(CALLS):
        shift.work(index, call)

    # The page ends the shift as it started it: no listener, pin or beat left over from a call.
    assert listeners(page, "document") == on_the_page
    assert listeners(page, "document.getElementById('triage')") == 0
    assert page.locator(".pin-icon, .cpr").count() == 0

    left = {index: pk for index, pk in shift.incident_of.items() if pk is not None}
    assert set(Incident.objects.values_list("pk", flat=True)) == set(left.values())  # no stray record
    assert len(left) == len(CALLS) - 1  # only the intake abandoned before anything was typed left none
    for index, pk in left.items():
        check_record(index, CALLS[index], Incident.objects.get(pk=pk), shift)


def check_record(index: int, call: Call, incident: Incident, shift: Shift) -> None:
    """What the call left in the database: exactly the keys pressed, once, and nothing more."""
    name = f"call {index + 1} ({call.ends} {call.protocol})".strip()
    triaged = Event.objects.filter(incident=incident, kind="incident.triaged").count()
    units = Assignment.objects.filter(incident=incident).count()
    assert incident.caller_number == caller_of(index, call), name
    if call.ends in SENT:
        recorded = {k: incident.triage_answers.get(k) for k in ("protocol", "answers")}
        assert recorded == {"protocol": call.protocol, "answers": list(call.answers)}, name
        assert (triaged, units, incident.status) == (1, 1, IncidentStatus.OPEN), name
    else:  # abandoned or linked: no triage, no unit
        assert (incident.triage_answers, incident.priority, triaged, units) == ({}, None, 0, 0), name
    if call.ends == "number":  # discarded, then found and reopened
        assert incident.location is None and incident.status == IncidentStatus.OPEN, name
        kinds = list(
            Event.objects.filter(incident=incident).order_by("seq").values_list("kind", "data__outcome")
        )
        assert kinds == [
            ("incident.created", None),
            ("incident.closed", "abandoned"),
            ("incident.reopened", None),
        ]
        return
    assert incident.location is not None and incident.place == shift.place_of[index], name
    if call.ends == "duplicate":
        assert incident.linked_to_id == shift.incident_of[REPEATED], name
        assert incident.status == IncidentStatus.CLOSED, name
    else:
        assert incident.linked_to_id is None and incident.status == IncidentStatus.OPEN, name
