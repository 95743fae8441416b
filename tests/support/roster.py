"""Staffing in tests as the centre staffs: roster the crew member on the unit, then start the
shift through the crew's action (dispatch/roster, decision 17)."""

from dispatch.core.actions import ActionError
from dispatch.crew.actions import start_shift
from dispatch.models import Role, User
from dispatch.roster.actions import approve_shift, roster_now
from fleet.models import CrewShift, Unit

TEST_SUPERVISOR = "roster-test-supervisor"


def on_shift(user: User, unit: Unit, role: str = "doctor") -> CrewShift:
    """Roster `user` on `unit` from now (unless rostered already) and start the shift. A member
    rostered elsewhere now moves with a supervisor's approval, as at a real centre."""
    try:
        roster_now(user, unit, role=role)
    except ActionError as refused:
        if refused.code != "roster_overlap":
            raise
        supervisor = User.objects.filter(username=TEST_SUPERVISOR).first() or User.objects.create_user(
            TEST_SUPERVISOR, role=Role.SUPERVISOR
        )
        approve_shift(user, unit, "moved by the test", actor=supervisor)
    return start_shift(user, unit, role)
