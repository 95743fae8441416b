"""Who may do what, and who may see what: the one place that answers it.

Seven roles (dispatch.models.Role). The control room (dispatchers, supervisors, admins) sees the
whole city live; dispatchers and supervisors act on it; a hospital's staff see only patients
bound for their own hospital; a crew sees only its own unit's job, from the start of its shift;
a station screen only the jobs its own station's units are sent to (number, priority,
complaint, address), on its own page and nowhere else; a wallboard screen (大屏) only the
centre's figures on /wallboard/, and of the live socket only that something changed.
Every layer asks here: the API's routes (require_role), the pages (role_required), the live
socket (visible_events, is_event_visible) and the queries (visible_incidents, visible_notices),
so a rule changed here changes everywhere at once.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from dispatch.core.event_kinds import AUDIT_PREFIX, EventKind
from dispatch.models import Assignment, Event, Incident, NoticeQuerySet, PreArrivalNotice, Role, User
from fleet.models import CrewShift, Unit
from hospitals.models import Hospital

# The control room sees every incident, unit and call, live.
CONTROL_ROOM = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
# Who takes calls, opens, changes and closes incidents and sends units.
DISPATCHERS = (Role.DISPATCHER, Role.SUPERVISOR)
# Who sees the missed-call list (caller numbers) and calls them back: dispatchers and
# supervisors; crews, hospitals and screens never (its events carry no incident, unit or hospital).
CALL_BACKERS = DISPATCHERS
# Who reads the response-time reports.
REPORT_READERS = (Role.SUPERVISOR, Role.ADMIN)
# Who may read an ER board (hospital staff their own hospital's, the control room any).
ER_STAFF = (Role.HOSPITAL, *CONTROL_ROOM)
CREW = (Role.CREW,)
# A station's wall screen (/station/): its own units' jobs, nothing else.
STATION_SCREENS = (Role.STATION,)
# What a station screen receives of its units: their jobs as sent, stood down and acknowledged
# at the station, and their statuses (no patient, no caller, no destination).
STATION_EVENT_KINDS = (
    EventKind.ASSIGNMENT_CREATED,
    EventKind.ASSIGNMENT_CANCELLED,
    EventKind.ASSIGNMENT_STATION_ACKNOWLEDGED,
    EventKind.UNIT_STATUS,
    # A unit of the station sent to cover elsewhere (move-up), arrived there, or its move ended:
    # the screen shows where it went and rings once when it is sent.
    EventKind.MOVE_UP_ACCEPTED,
    EventKind.MOVE_UP_ARRIVED,
    EventKind.MOVE_UP_CANCELLED,
)
# The control room's wallboard (/wallboard/): its screen account, and supervisors and admins.
WALLBOARD_READERS = (Role.WALLBOARD, Role.SUPERVISOR, Role.ADMIN)
# Who writes the roster (排班) and adds dispatcher seats.
ROSTER_WRITERS = (Role.SUPERVISOR, Role.ADMIN)
# Who approves a crew member's shift on a unit they are not rostered to.
SHIFT_APPROVERS = (Role.SUPERVISOR,)
# Who accepts or dismisses a move-up suggestion (dispatch.coverage.moveup); the control room
# reads them; a relocating unit's own crew (crew_unit_id) reads its move and taps "arrived".
MOVE_UP_DECIDERS = DISPATCHERS


def has_role(user: Any, *roles: str) -> bool:
    """Whether a signed-in user has one of these roles (a superuser has them all)."""
    return bool(user.is_authenticated and (user.is_superuser or user.role in roles))


def require_role(request: HttpRequest, *roles: str) -> None:
    """PermissionDenied (403, in the user's language) unless the user has one of these roles."""
    if not has_role(request.user, *roles):
        raise PermissionDenied(_("Your role may not do this."))


def role_required(*roles: str, message: str | Promise = "") -> Callable:
    """A page for these roles only: sign-in first, then 403 with `message` for anyone else
    (a lazy translation is welcome: it is read in the user's language at each refusal)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied(str(message) or _("Your role may not do this."))
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorator


def may_write_roster(user: Any) -> bool:
    return has_role(user, *ROSTER_WRITERS)


def may_approve_shifts(user: Any) -> bool:
    return has_role(user, *SHIFT_APPROVERS)


def is_admin(user: Any) -> bool:
    """Administrators: users, fleet, hospitals, reference data, and the audit trail."""
    return has_role(user, Role.ADMIN)


def is_control_room(user: Any) -> bool:
    return has_role(user, *CONTROL_ROOM)


def may_dispatch(user: Any) -> bool:
    return has_role(user, *DISPATCHERS)


def may_decide_move_up(user: Any) -> bool:
    return has_role(user, *MOVE_UP_DECIDERS)


def may_call_back(user: Any) -> bool:
    """The missed and abandoned calls' list and calling them back (dispatch.calls.callbacks)."""
    return has_role(user, *CALL_BACKERS)


def may_record_call_back_outcome(user: Any, placed_by_id: int) -> bool:
    """What came of a call back: the dispatcher who placed it (who talked), or a supervisor."""
    return may_call_back(user) and (user.pk == placed_by_id or has_role(user, Role.SUPERVISOR))


def may_read_reports(user: Any) -> bool:
    return has_role(user, *REPORT_READERS)


def crew_assignment_on(user: User, incident_id: int) -> Assignment | None:
    """A crew member's live job on this incident (their unit sent there during their shift and
    not stood down), or None: what lets a crew see a major incident's picture and register its
    casualties."""
    if not is_crew(user):
        return None
    return (
        Assignment.objects.for_crew(user)
        .filter(incident_id=incident_id, cancelled_at__isnull=True)
        .select_related("unit")
        .first()
    )


def may_see_major_incident(user: User, incident_id: int) -> bool:
    """A major incident's whole picture (every casualty by tag number, no names): the control
    room, and the crews sent to it. A hospital sees only the patients allocated to it."""
    return is_control_room(user) or crew_assignment_on(user, incident_id) is not None


def sees_caller_details(user: Any) -> bool:
    """The caller's phone and name and the dispatcher's free-text notes: the control room's, never
    a hospital's (its reduced view, dispatch/incidents/reads.py; the ER board and the care record
    follow it). A crew reads them for its own job on the tablet."""
    return is_control_room(user)


def receives_positions(user: Any) -> bool:
    """Every unit's position is for the control room only: hospital staff and crews follow
    their own patients and units through the event log, never the whole fleet."""
    return is_control_room(user)


def is_hospital_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.role == Role.HOSPITAL and user.hospital_id)


def is_crew(user: Any) -> bool:
    return bool(user.is_authenticated and user.role == Role.CREW)


def is_station_screen(user: Any) -> bool:
    """A station's wall screen (never a superuser: the control room sees more, not this)."""
    return bool(
        user.is_authenticated and user.role == Role.STATION and user.station_id and not user.is_superuser
    )


def require_station_screen(request: HttpRequest) -> int:
    """A station screen's own station (its id); PermissionDenied (403) for anyone else, the
    control room included: the station page and its API are the station's, nobody else's."""
    user = request.user
    if not is_station_screen(user):
        raise PermissionDenied(_("Only a station screen shows its station's jobs."))
    return user.station_id  # type: ignore[union-attr,return-value]


def is_wallboard_screen(user: Any) -> bool:
    """The wallboard's own screen account (never a superuser)."""
    return bool(user.is_authenticated and user.role == Role.WALLBOARD and not user.is_superuser)


def may_read_wallboard(user: Any) -> bool:
    return has_role(user, *WALLBOARD_READERS)


# What every screen's page needs besides its own: static files, the scripts' words, the language,
# signing in and out. A screen account ("/" sends it to its page) opens only these and its own
# pages; anything else, every other page and API route included, is refused whatever its own rule
# says (core/screens.py): the account is signed in on a wall for a whole shift.
SCREEN_COMMON_PATHS = ("/static/", "/jsi18n/", "/i18n/", "/login/", "/logout/", "/account/two-factor/")
# Per screen account: whether a user is one, the pages it opens, and what a refusal says. The
# wallboard's live socket also sends it no event, only the number the log has reached
# (hears_doorbell_only): its page then reads its figures again, which carry no patient data.
SCREENS: tuple[tuple[Callable[[Any], bool], tuple[str, ...], Promise], ...] = (
    (
        is_station_screen,
        ("/station/", "/api/station/"),
        _lazy("A station screen shows only its station's page."),
    ),
    (is_wallboard_screen, ("/wallboard/",), _lazy("A wallboard screen shows only the wallboard.")),
)


def screen_refusal(user: Any, path: str) -> str | None:
    """Why this screen account may not open this path (in the user's language), or None: any
    other user, or a path the screen may open."""
    for is_screen, pages, refusal in SCREENS:
        if is_screen(user):
            allowed = path == "/" or path.startswith(pages) or path.startswith(SCREEN_COMMON_PATHS)
            return None if allowed else str(refusal)
    return None


def hears_doorbell_only(user: Any) -> bool:
    """A screen told only that the log moved on (a "cursor" frame on the live socket), never what
    happened: the wallboard screen (visible_events gives it none)."""
    return is_wallboard_screen(user)


def station_unit_ids(user: User) -> frozenset[int]:
    """The units of a station screen's own station (empty for anyone else): what its socket
    follows."""
    if not is_station_screen(user):
        return frozenset()
    return frozenset(Unit.objects.filter(home_station_id=user.station_id).values_list("pk", flat=True))


def visible_station_assignments(user: User) -> QuerySet[Assignment]:
    """The jobs a station screen shows and prints: live assignments of its own station's units
    (a station screen only; nobody else reads the station's queue)."""
    if not is_station_screen(user):
        return Assignment.objects.none()
    return Assignment.objects.live().filter(unit__home_station_id=user.station_id)


def staff_hospital_id(user: User) -> int | None:
    """The hospital of a hospital staff member (None for anyone else): the id the hospital's
    rules filter on, typed as present where is_hospital_staff holds."""
    return user.hospital_id if is_hospital_staff(user) else None


def own_hospital(user: User) -> Hospital:
    """A hospital staff member's own hospital. Every one has one (the database constraint
    hospital_staff_have_a_hospital), so a None here is a broken invariant, not a refusal."""
    hospital = user.hospital
    assert hospital is not None, f"hospital staff {user.username} has no hospital"
    return hospital


def bound_for_hospital(path: str, hospital_id: int) -> Q:
    """An assignment (reached through `path`) bound for this hospital: going there and not
    cancelled. One condition, so both parts hold for the same assignment."""
    return Q(**{f"{path}hospital_id": hospital_id, f"{path}cancelled_at__isnull": True})


def visible_incidents(user: User, incidents: QuerySet[Incident] | None = None) -> QuerySet[Incident]:
    """The incidents this user may see: the control room all; a hospital those with a unit
    bound for it (the ER board's rule: an assignment to it not cancelled, so a unit stood down
    or sent elsewhere takes the incident out of its reach); a crew those its unit was sent to
    during its shift."""
    incidents = Incident.objects.all() if incidents is None else incidents
    if is_control_room(user):
        return incidents
    if (hospital_id := staff_hospital_id(user)) is not None:
        return incidents.filter(bound_for_hospital("assignments__", hospital_id)).distinct()
    if is_crew(user):
        return incidents.filter(assignments__in=Assignment.objects.for_crew(user)).distinct()
    return incidents.none()


def visible_notices(user: User, notices: NoticeQuerySet | None = None) -> QuerySet[PreArrivalNotice]:
    """Pre-arrival notices: the control room all; hospital staff their own hospital's, while
    the patient is still bound for it (its assignment not cancelled nor sent elsewhere)."""
    notices = PreArrivalNotice.objects.all() if notices is None else notices
    if is_control_room(user):
        return notices
    if (hospital_id := staff_hospital_id(user)) is not None:
        return notices.for_hospital(hospital_id).filter(bound_for_hospital("assignment__", hospital_id))
    return notices.none()


def visible_events(user: User) -> QuerySet[Event]:
    """Events this user may receive: the control room all but the audit trail (sign-ins and
    the like: administrators only); hospital staff their hospital's;
    a crew its own unit's since its shift began (a unit's earlier events carry earlier crews'
    patients)."""
    events = Event.objects.all()
    if is_admin(user):
        return events
    if is_control_room(user):
        return events.exclude(kind__startswith=AUDIT_PREFIX)
    if (hospital_id := staff_hospital_id(user)) is not None:
        return events.filter(hospital_id=hospital_id)
    if is_station_screen(user):
        return events.filter(kind__in=STATION_EVENT_KINDS, unit__home_station_id=user.station_id)
    if is_crew(user):
        on_shift = CrewShift.objects.current().filter(
            user=user, unit=OuterRef("unit"), started_at__lte=OuterRef("at")
        )
        own_shift_end = Q(kind=EventKind.SHIFT_ENDED, data__user=user.username)
        return events.filter(Q(Exists(on_shift)) | own_shift_end | major_incident_events_for_crew(user))
    return events.none()


def is_event_visible(
    user: User,
    payload: dict[str, Any],
    crew_unit_id: int | None = None,
    station_units: frozenset[int] = frozenset(),
) -> bool:
    """The rule of visible_events, for one serialized event already in hand (the live socket;
    `station_units` is station_unit_ids(user), read by the socket off the event loop)."""
    if is_admin(user):
        return True
    if is_control_room(user):
        return not payload["kind"].startswith(AUDIT_PREFIX)
    if is_hospital_staff(user):
        return payload["hospital"] is not None and payload["hospital"] == user.hospital_id
    if is_station_screen(user):
        return payload["kind"] in STATION_EVENT_KINDS and payload["unit"] in station_units
    if is_crew(user):
        return (
            (crew_unit_id is not None and payload["unit"] == crew_unit_id)
            or is_own_shift_end(user, payload)
            or names_crew_unit_on_major_incident(payload, crew_unit_id)
        )
    return False


# A major incident's events (declared, situation report, casualties registered, allocated, carried)
# name in data["units"] the units on the incident when written: their crews hear them, so the tablet
# reads the incident's picture when it changed (dispatch.major.actions.units_on).
MAJOR_EVENT_PREFIXES = ("major.", "casualty.")


def names_crew_unit_on_major_incident(payload: dict[str, Any], crew_unit_id: int | None) -> bool:
    if crew_unit_id is None or not payload["kind"].startswith(MAJOR_EVENT_PREFIXES):
        return False
    return crew_unit_id in ((payload.get("data") or {}).get("units") or [])


def major_incident_events_for_crew(user: User) -> Q:
    """names_crew_unit_on_major_incident for the log: those of the crew's unit since its shift began."""
    shift = user.shifts.current().first()
    if shift is None:
        return Q(pk__in=[])
    kinds = Q(kind__startswith=MAJOR_EVENT_PREFIXES[0]) | Q(kind__startswith=MAJOR_EVENT_PREFIXES[1])
    return kinds & Q(data__units__contains=[shift.unit_id], at__gte=shift.started_at)


def is_own_shift_end(user: User, payload: dict[str, Any]) -> bool:
    """A crew member's own shift ended (on another tablet, or by the control room): the tablet
    must hear it, to take the job and the patient's data off the screen and out of its cache,
    although the member is no longer on that unit when the event arrives."""
    return (
        payload["kind"] == EventKind.SHIFT_ENDED and (payload.get("data") or {}).get("user") == user.username
    )


def crew_unit_id(user: User) -> int | None:
    """The unit of a crew member's current shift (None for anyone else, or off shift)."""
    if not is_crew(user):
        return None
    shift = user.shifts.current().first()
    return shift.unit_id if shift else None
