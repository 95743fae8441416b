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


def our_models() -> list[type]:
    """Every pydantic model class the project defines (the API's schemas among them)."""
    from pydantic import BaseModel

    import dispatch.api  # noqa: F401  (registers every router and its schemas)

    found, todo = [], [BaseModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.split(".")[0] in ("dispatch", "fleet", "hospitals"):
                found.append(sub)
    return found


def test_no_two_schemas_share_a_name():
    """django-ninja names a component after its class: two classes of one name became one
    component, and one of the operations was documented with the other's shape."""
    by_name: dict[str, set[str]] = {}
    for model in our_models():
        title = model.model_config.get("title") or model.__name__
        by_name.setdefault(title, set()).add(f"{model.__module__}.{model.__qualname__}")
    shared = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert shared == {}


def test_each_operation_documents_its_own_shapes(schema):
    """The component an operation's answer points at is the schema of the class it serves."""
    from dispatch.map.api import StationOut
    from dispatch.recommend.api import RankedUnitOut
    from dispatch.units.api import FleetUnitOut

    def answer_ref(path: str) -> str:
        content = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        return content["schema"].get("items", content["schema"])["$ref"].rsplit("/", 1)[1]

    assert answer_ref("/api/units") == FleetUnitOut.__name__
    assert answer_ref("/api/stations") == StationOut.__name__
    components = schema["components"]["schemas"]
    units = components["RecommendationOut"]["properties"]["units"]["items"]["$ref"].rsplit("/", 1)[1]
    assert units == RankedUnitOut.__name__
    assert set(components[units]["properties"]) == set(RankedUnitOut.model_fields)


def test_operation_ids_are_unique_and_stable(schema):
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    # Named after the view alone, not its module: a generated client keeps its method names
    # when code moves.
    assert "create_incident" in ids


def test_every_operation_documents_its_error_answers(schema):
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            codes = set(op["responses"])
            if op.get("security"):
                assert "401" in codes, f"{method.upper()} {path}"
            if "{" in path:
                assert "404" in codes, f"{method.upper()} {path}"
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in codes, f"{method.upper()} {path}"
            for code in codes - {"200", "201", "202", "204"}:
                body = op["responses"][code]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ErrorOut"}, f"{method.upper()} {path} {code}"


def test_the_schema_and_its_docs_are_for_signed_in_users(client, world):
    """They map every endpoint: of use to an attacker, of none to the public."""
    anonymous = client.get("/api/schema/")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "login_required"
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/login/")
    client.force_login(world.carol)  # any role may read them
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    # Swagger UI from our own install (django-ninja's static files), never from a CDN
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn." not in html and "//unpkg" not in html
