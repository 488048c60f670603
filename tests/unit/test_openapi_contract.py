"""Every service's OpenAPI document declares its errors as they are sent: one problem+json schema.

The documents are built from the services' definitions (no server); the problem bodies checked
against the declared schema are the ones the real handlers render.
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Annotated, Any

import jsonschema
import pytest
from fastapi import FastAPI, Query, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

from shared import openapi
from shared.api_types import Timestamp, TimestampIn, set_location
from shared.problems import PROBLEM_JSON, Conflict, install_problem_handlers
from shared.service import create_app
from shared.settings import SERVICE_NAMES, Settings
from tests.support.contract import TYPED_SERVICES

SERVICES = (*SERVICE_NAMES, "dashboard")
METHODS = ("get", "put", "post", "delete", "patch")


@cache
def document(service: str) -> dict[str, Any]:
    """The OpenAPI document the service serves."""
    definition = importlib.import_module(f"services.{service}.app").DEFINITION
    result: dict[str, Any] = create_app(definition, Settings()).openapi()
    return result


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of every operation of a document."""
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()
            if method in METHODS]


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator of ``schema`` that resolves the document's ``#/components`` references."""
    return jsonschema.Draft202012Validator({**schema, "components": doc["components"]})


@pytest.mark.parametrize("service", SERVICES)
def test_fastapis_validation_error_schema_is_gone(service: str) -> None:
    text = json.dumps(document(service))
    assert "HTTPValidationError" not in text
    assert '"ValidationError"' not in text and "schemas/ValidationError" not in text


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_response_is_the_problem_schema(service: str) -> None:
    doc = document(service)
    wrong = []
    for path, method, op in operations(doc):
        for code, response in op["responses"].items():
            if code.isdigit() and int(code) >= 400 and path != "/readyz":
                content = response.get("content", {})
                if list(content) != [PROBLEM_JSON] or content[PROBLEM_JSON]["schema"] != {"$ref": openapi.PROBLEM_REF}:
                    wrong.append(f"{method.upper()} {path} {code}: {content}")
                else:  # the example conforms to the schema
                    validator(doc, {"$ref": openapi.PROBLEM_REF}).validate(content[PROBLEM_JSON]["example"])
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("service", SERVICES)
def test_the_problems_an_operation_can_answer_are_declared(service: str) -> None:
    missing = []
    for path, method, op in operations(document(service)):
        declared = {int(c) for c in op["responses"] if c.isdigit()}
        needed = {431}
        if op.get("parameters") or op.get("requestBody"):
            needed.add(422)
        if "{" in path:
            needed.add(404)
        if op.get("security"):
            needed |= {401, 403}
        if "probes" not in op.get("tags", []):
            needed.add(503)
        if needed - declared:
            missing.append(f"{method.upper()} {path}: {sorted(needed - declared)}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("service", SERVICES)
def test_operation_ids_are_the_route_names_and_unique(service: str) -> None:
    ids = [op["operationId"] for _p, _m, op in operations(document(service))]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert not [i for i in ids if i.endswith(("_get", "_post", "_put", "_delete", "_patch"))], ids


@pytest.mark.parametrize("service", SERVICES)
def test_every_201_declares_its_location(service: str) -> None:
    created = [(path, op["responses"]["201"]) for path, _m, op in operations(document(service))
               if "201" in op["responses"]]
    for path, response in created:
        assert response["headers"]["Location"]["required"] is True, path


class Body(BaseModel):
    """A thing to make."""

    name: str
    count: int


@pytest.mark.parametrize("service", TYPED_SERVICES)
def test_every_success_of_a_typed_service_has_a_schema(service: str) -> None:
    untyped = []
    for path, method, op in operations(document(service)):
        for code, response in op["responses"].items():
            if code.startswith("2") and code != "204":  # No Content: no body to describe
                schemas = [body.get("schema") for body in response.get("content", {}).values()]
                if not schemas or not all(schemas) or {"type": "object", "additionalProperties": True} in schemas:
                    untyped.append(f"{method.upper()} {path} {code}: {response.get('content')}")
    assert not [u for u in untyped if not u.startswith("GET /asyncapi.json")], "\n".join(untyped)


def _problem_app() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    openapi.install(app)

    @app.post("/things/{thing_id}", status_code=201, responses=openapi.problems(409))
    async def make(thing_id: int, body: Body, response: Response,
                   tag: Annotated[str, Query(max_length=3)] = "") -> dict[str, Any]:
        if body.name == "taken":
            raise Conflict("the name is taken", allowed=["rename"])
        set_location(response, f"/things/{thing_id}")
        return {"id": thing_id}

    return TestClient(app, raise_server_exceptions=False)


def test_real_problem_bodies_conform_to_the_declared_schema() -> None:
    client = _problem_app()
    doc = client.get("/openapi.json").json()
    responses = doc["paths"]["/things/{thing_id}"]["post"]["responses"]
    assert {"409", "422", "431", "413", "503"} <= set(responses)  # the route's 409, the frame's others
    answers = {
        422: client.post("/things/x?tag=long", json={"name": 1}),
        409: client.post("/things/1", json={"name": "taken", "count": 1}),
        404: client.post("/nowhere", json={}),
    }
    schema = validator(doc, {"$ref": openapi.PROBLEM_REF})
    for status, answer in answers.items():
        assert answer.status_code == status
        assert answer.headers["content-type"] == PROBLEM_JSON
        schema.validate(answer.json())
    fields = {e["field"] for e in answers[422].json()["errors"]}
    assert fields == {"path.thing_id", "query.tag", "body.name", "body.count"}
    assert answers[409].json()["allowed"] == ["rename"]
    created = client.post("/things/7", json={"name": "new", "count": 1})
    assert created.status_code == 201 and created.headers["Location"] == "/things/7"
    unreadable = client.post("/things/7", content=b"\x80\x81", headers={"Content-Type": "application/json"})
    assert unreadable.status_code == 400 and "400" in responses  # bytes that are not text: declared
    schema.validate(unreadable.json())


def test_a_405_allows_every_method_of_the_path() -> None:
    app = FastAPI()
    install_problem_handlers(app)
    openapi.install(app)

    @app.get("/cases/{case_id}")
    async def read(case_id: str) -> dict[str, str]:
        return {"id": case_id}

    @app.post("/cases/{case_id}")
    async def write(case_id: str) -> dict[str, str]:
        return {"id": case_id}

    answer = TestClient(app).delete("/cases/7")
    assert answer.status_code == 405 and answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["Allow"] == "GET, POST"  # Starlette alone would name GET only


def test_timestamps_always_carry_their_offset() -> None:
    adapter = TypeAdapter(Timestamp)
    naive = datetime(2026, 12, 1, 8, 0, 0)  # as SQLite gives it back: written in UTC
    assert adapter.dump_json(naive) == b'"2026-12-01T08:00:00+00:00"'
    china = datetime(2026, 12, 1, 16, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    assert adapter.dump_json(china) == b'"2026-12-01T16:00:00+08:00"'
    assert adapter.validate_python("2026-12-01T08:00:00") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert adapter.json_schema(mode="serialization")["format"] == "date-time"


@pytest.mark.parametrize("sent", ["0.5", "1764576000", "2026-12-01T08:00:00", "2026-12-01", "soon"])
def test_a_moment_sent_without_its_offset_is_refused(sent: str) -> None:
    with pytest.raises(ValueError):
        TypeAdapter(TimestampIn).validate_python(sent)


def test_a_moment_sent_with_its_offset_is_taken() -> None:
    taken = TypeAdapter(TimestampIn).validate_python("2026-12-01T16:00:00+08:00")
    assert taken == datetime(2026, 12, 1, 8, tzinfo=UTC)
