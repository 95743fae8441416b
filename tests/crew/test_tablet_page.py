"""The crew tablet page: for crew members only, in Chinese first and in English."""

import pytest
from django.test import Client

from tests.support.crew_tablet import signed_in


def test_a_crew_member_gets_the_tablet(world):
    response = signed_in(world.carol).get("/tablet/")
    assert response.status_code == 200
    assert b'id="tablet-config"' in response.content and b"js/tablet.js" in response.content


@pytest.mark.parametrize("who", ["alice", "bob", "dave", "erin"])
def test_other_roles_are_refused(world, who):
    assert signed_in(getattr(world, who)).get("/tablet/").status_code == 403


def test_signed_out_goes_to_login():
    response = Client().get("/tablet/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_page_renders_in_chinese_and_in_english(world):
    tablet = signed_in(world.carol)
    chinese = tablet.get("/tablet/", headers={"Accept-Language": "zh-hans"})
    english = tablet.get("/tablet/", headers={"Accept-Language": "en"})
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert 'data-lang="zh-hans"' in chinese.content.decode()
    assert '<html lang="en">' in english.content.decode()
    assert 'data-lang="en"' in english.content.decode() and "Acknowledge" in english.content.decode()


def test_the_crew_landing_page_links_to_the_tablet(world):
    assert 'href="/tablet/"' in signed_in(world.carol).get("/").content.decode()
    assert 'href="/tablet/"' not in signed_in(world.alice).get("/").content.decode()


def test_offline_next_statuses_are_the_servers(world):
    config = signed_in(world.carol).get("/tablet/").context["config"]
    assert config["next"]["dispatched"] == ["acknowledged", "en_route"]
    assert config["next"]["on_scene"] == ["available", "patient_contact", "transporting"]
