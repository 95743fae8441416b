"""What every page's template gets: the catalogue of event kinds for the page's scripts."""

from django.http import HttpRequest

from dispatch.core.event_kinds import page_catalogue


def event_kinds(request: HttpRequest) -> dict[str, dict[str, dict[str, str]]]:
    """The kinds and their timeline labels in the request's language: templates/base.html hands
    them to static/js/shared.js (KIND, eventLabel), so no script spells a kind itself."""
    return {"event_kinds": page_catalogue()}
