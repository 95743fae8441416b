"""The OpenAPI document at /api/schema/ describes exactly the JSON endpoints that exist."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver


def api_routes() -> set[str]:
    """Every URL under /api/ that Django routes, in OpenAPI's {param} form."""
    routes = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                routes.add("/" + prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    api = {r for r in routes if r.startswith("/api/")}
    api -= {"/api/", "/api/schema/", "/api/docs/"}  # the index, the document itself, its viewer
    return {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r) for r in api}


@pytest.fixture
def schema(client, world) -> dict:
    client.force_login(world.alice)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]
    assert schema["paths"]


def test_schema_and_routes_do_not_drift(schema):
    documented = {path.rstrip("/") for path in schema["paths"]}
    routed = {path.rstrip("/") for path in api_routes()}
    assert routed - documented == set(), "endpoints missing from the OpenAPI document"
    assert documented - routed == set(), "documented paths that no endpoint serves"


def test_every_operation_has_a_summary_and_responses(schema):
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), f"{method.upper()} {path} has no summary"
            assert op.get("responses"), f"{method.upper()} {path} documents no response"
