"""A client built from the published schema alone works: it finds each operation by its
operationId, checks what it sends against the documented request body, and every answer it
gets matches the documented shape. One incident goes from the call to the hospital's
acknowledgement this way, as a dispatcher, a crew member and a nurse."""

from typing import Any

import jsonschema_rs
import pytest
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dispatch.roster.actions import roster_now
from tests.support.api_clients import published_schema, signed_in
from tests.support.crew_tablet import new_key

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class SchemaClient:
    """What a generated client does: operations by id, bodies checked against the schema."""

    def __init__(self, schema, user) -> None:
        self.schema = schema
        self.document = schema.raw_schema
        self.cookies, self.headers = signed_in(user)

    def body_errors(self, operation, body: Any) -> list[str]:
        content = self.document["paths"][operation.path][operation.method.lower()]["requestBody"]["content"]
        body_schema = content["application/json"]["schema"]
        validator = jsonschema_rs.validator_for({**body_schema, "components": self.document["components"]})
        return [error.message for error in validator.iter_errors(body)]

    def __call__(self, operation_id: str, body: Any = None, **params: Any) -> Any:
        operation = self.schema.find_operation_by_id(operation_id)
        path_names = {p.name for p in operation.path_parameters}
        path = {k: v for k, v in params.items() if k in path_names}
        query = {k: v for k, v in params.items() if k not in path_names}
        if body is not None:
            assert self.body_errors(operation, body) == [], operation_id
        sent = {"body": body, "media_type": "application/json"} if body is not None else {}
        case = operation.Case(path_parameters=path, query=query, **sent)
        headers = {**self.headers, "Idempotency-Key": new_key()}
        response = case.call(headers=headers, cookies=self.cookies)
        case.validate_response(response, checks=CHECKS, headers=headers)
        assert response.status_code < 300, (operation_id, response.status_code, response.text)
        return response.json()


def test_one_incident_from_call_to_hospital_through_the_schema(world, grid):
    schema = published_schema(world.erin)
    dispatcher = SchemaClient(schema, world.alice)
    crew = SchemaClient(schema, world.carol)
    nurse = SchemaClient(schema, world.dave)

    incident = dispatcher("create_incident", {"caller_number": "13912345678"})
    dispatcher("locate", {"lon": 119.6, "lat": 24.91, "source": "pin"}, incident_id=incident["id"])
    dispatcher(
        "triage", {"priority": 1, "chief_complaint": "胸痛", "capability": "als"}, incident_id=incident["id"]
    )
    ranked = dispatcher("for_incident", incident_id=incident["id"], hospital_capability="chest_pain")
    unit, hospital = ranked["units"][0], ranked["hospitals"][0]
    assert unit["id"] == world.als1.pk and hospital["id"] == world.city.pk

    roster_now(world.carol, world.als1)  # the crew starts a shift only where rostered
    shift = crew("start_shift", {"unit": unit["id"]})
    assert shift["shift"]["unit"]["id"] == unit["id"]
    sent = dispatcher(
        "dispatch",
        {"unit": unit["id"], "hospital": hospital["id"], "recommended_rank": 1},
        incident_id=incident["id"],
    )
    job = crew("current")["assignment"]
    assert job["id"] == sent["id"]
    results = crew(
        "sync",
        {
            "operations": [
                {
                    "key": new_key(),
                    "kind": "acknowledge",
                    "client_time": "2026-12-01T08:00:00+08:00",
                    "data": {"assignment": job["id"]},
                },
                {
                    "key": new_key(),
                    "kind": "status",
                    "client_time": "2026-12-01T08:01:00+08:00",
                    "data": {"status": "en_route", "assignment": job["id"]},
                },
            ]
        },
    )["results"]
    assert [r["ok"] for r in results] == [True, True]
    crew("crew_send", assignment_id=job["id"])

    board = nurse("board")
    (row,) = board["notices"]
    assert row["incident"]["number"] == incident["number"]
    nurse("acknowledge_notice", notice_id=row["id"])
    assert (
        dispatcher("get_incident", incident_id=incident["id"])["assignments"][0]["unit_status"] == "en_route"
    )
