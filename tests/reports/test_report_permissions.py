"""Only supervisors and admins see reports: every API endpoint, both pages and the exports.
Dispatchers, crews and hospital staff are refused (403); anyone signed out is sent to sign in."""

import pytest

from dispatch.core.views import landing_links
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady

ENDPOINTS = [
    f"/api/reports/summary?{MONTH_QUERY}",
    f"/api/reports/trend?{MONTH_QUERY}&interval=response&bucket=day",
    f"/api/reports/distribution?{MONTH_QUERY}&interval=response",
    f"/api/reports/areas?{MONTH_QUERY}&interval=response",
    f"/api/reports/units?{MONTH_QUERY}",
    f"/api/reports/hospitals?{MONTH_QUERY}",
    f"/api/reports/priorities?{MONTH_QUERY}",
    f"/api/reports/incidents?{MONTH_QUERY}",
    f"/api/reports/export.csv?{MONTH_QUERY}",
    f"/api/reports/export.csv?{MONTH_QUERY}&table=incidents",
    f"/api/reports/export.xlsx?{MONTH_QUERY}",
]
PAGES = ["/reports/?start=2026-03-01&end=2026-03-31", f"/reports/month/?{MONTH_QUERY}"]


@pytest.fixture
def incident(world):
    return make(world, Job(MARCH, steady(), unit=world.als1, hospital=world.city))


@pytest.mark.parametrize("user", ["bob", "erin"])
def test_supervisors_and_admins_see_everything(world, incident, user):
    client = signed_in(getattr(world, user))
    for url in [*ENDPOINTS, f"/api/reports/incidents/{incident.pk}/timeline", *PAGES]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("user", ["alice", "carol", "dave"])
def test_other_roles_are_refused_everywhere(world, incident, user):
    client = signed_in(getattr(world, user))
    for url in [*ENDPOINTS, f"/api/reports/incidents/{incident.pk}/timeline"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert response["Content-Type"].startswith("application/json")
        assert incident.number not in response.content.decode()
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert incident.number not in response.content.decode()


def test_signed_out_visitors_get_nothing(client, world, incident):
    for url in ENDPOINTS:
        assert client.get(url).status_code == 401, url
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_only_their_landing_pages_link_to_reports(world):
    def links(user):
        return [link["url"] for link in landing_links(user)]

    assert "/reports/" in links(world.bob) and "/reports/" in links(world.erin)
    for user in (world.alice, world.carol, world.dave):
        assert "/reports/" not in links(user)
