"""The scripts' words and event kinds reach every page: /jsi18n/ answers the page's language
(Django's JavaScript catalogue of locale/*/djangojs.po), and templates/base.html loads it before
the page's modules and hands them the server's catalogue of event kinds."""

import json

from django.conf import settings
from django.test import Client

from dispatch.core.event_kinds import EventKind
from tests.support.crew_tablet import signed_in
from tests.support.scripts import code_lines, scripts


def catalogue(response) -> dict[str, str | list[str]]:
    """The messages the catalogue script defines, as the browser gets them (none: no list)."""
    script = response.content.decode()
    if "const newcatalog = " not in script:
        return {}
    start = script.index("const newcatalog = ") + len("const newcatalog = ")
    return json.loads(script[start : script.index(";\n", start)])


def test_the_catalogue_answers_in_chinese() -> None:
    response = Client().get("/jsi18n/", headers={"Accept-Language": "zh-hans"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    words = catalogue(response)
    assert words["Call in progress"] == "来电受理"  # the console's title of an intake from a call
    assert words["triage outcome\x04I Critical"] == "I级 危重"  # a word with its context
    assert words["%(count)s new notice to acknowledge"] == ["%(count)s 条新通知待确认"]  # one plural form


def test_the_language_chosen_on_the_page_wins_over_the_browsers() -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"  # what the page's language switch sets
    words = catalogue(client.get("/jsi18n/", headers={"Accept-Language": "en"}))
    assert words["Call in progress"] == "来电受理"


def test_the_catalogue_answers_in_english() -> None:
    """English is the message ids themselves: nothing to look up, gettext() returns the id."""
    response = Client().get("/jsi18n/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Call in progress" not in catalogue(response)
    assert "来电受理" not in response.content.decode()


def event_kinds(html: str) -> dict[str, dict[str, str]]:
    start = html.index('<script id="event-kinds" type="application/json">') + len(
        '<script id="event-kinds" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_a_page_loads_the_catalogue_before_its_modules_and_gets_the_event_kinds(world) -> None:
    tablet = signed_in(world.carol)
    chinese = tablet.get("/tablet/", headers={"Accept-Language": "zh-hans"}).content.decode()
    english = tablet.get("/tablet/", headers={"Accept-Language": "en"}).content.decode()
    assert chinese.index('<script src="/jsi18n/"></script>') < chinese.index('<script type="module"')
    kinds = event_kinds(chinese)
    assert kinds["kinds"]["NOTICE_ACKNOWLEDGED"] == "notice.acknowledged"
    assert kinds["labels"]["incident.created"] == "建立事件"
    assert event_kinds(english)["labels"]["incident.created"] == "incident opened"


def test_no_script_spells_an_event_kind_itself() -> None:
    """A kind is spelled once, in dispatch/core/event_kinds.py: scripts say KIND.NAME."""
    spelled = []
    for script in scripts():
        code = "\n".join(code_lines(script))
        spelled += [f"{script.name}: {kind.value}" for kind in EventKind if f'"{kind.value}"' in code]
    assert spelled == []
