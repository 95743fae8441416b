"""The JSON API: the API object of dispatch.core.api with every feature's router on it.

Each feature keeps its endpoints in its own api.py; this module only puts them together, so it
is the one place that imports them all. Order matters where paths overlap: locate's
/incidents/duplicates must come before incidents' /incidents/{incident_id}.
"""

from dispatch.alarms import api as alarms
from dispatch.calls import api as calls
from dispatch.calls import callbacks_api as call_backs
from dispatch.calls import webhooks as call_webhooks
from dispatch.core import me
from dispatch.core.api import api
from dispatch.coverage import api as coverage
from dispatch.coverage import moveup_api as move_ups
from dispatch.crew import api as crew
from dispatch.handoff import api as handoff
from dispatch.incidents import api as incidents
from dispatch.locate import api as locate
from dispatch.major import api as major
from dispatch.map import api as city_map
from dispatch.positions import api as positions
from dispatch.recommend import api as recommend
from dispatch.reports import api as reports
from dispatch.roster import api as roster
from dispatch.station import api as station
from dispatch.triage import api as triage
from dispatch.units import api as units

for feature in (
    me,
    units,
    city_map,
    locate,
    incidents,
    triage,
    recommend,
    positions,
    crew,
    calls,
    call_backs,
    call_webhooks,
    reports,
    handoff,
    alarms,
    station,
    roster,
    major,
    move_ups,
    coverage,
):
    api.add_router("/", feature.router)

__all__ = ["api"]
