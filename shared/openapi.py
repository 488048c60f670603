"""Every service's OpenAPI document declares the problems its routes answer, as they are sent.

FastAPI declares a 422 of its own shape (``HTTPValidationError``) and no other error, while every
4xx and 5xx of a Tongban service is an RFC 9457 problem (``shared/problems.py``). The frame
therefore rewrites the generated document once, when it is first asked for:

- one ``Problem`` schema (with ``errors[]`` for validation) under ``components/schemas``, and
  FastAPI's ``HTTPValidationError``/``ValidationError`` gone;
- on each operation the problems the frame itself can answer, derived from the operation's shape
  (:data:`DEFAULT_PROBLEMS`); a route adds its own through ``responses=`` (:func:`problems`), and
  any 4xx/5xx a route declares without a body gets the problem body;
- a ``Location`` header on every 201.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from shared.api_types import ProblemDetails, problem_example
from shared.problems import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
UNSAFE = frozenset({"post", "put", "patch", "delete"})
PROBE_TAG = "probes"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

_CATALOGUE: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("The body cannot be read (not UTF-8 text)",
          problem_example(400, "bad-request", "Bad Request", "There was an error parsing the body")),
    401: ("No bearer token, or one that does not verify (`WWW-Authenticate` says why)",
          problem_example(401, "unauthenticated", "Unauthenticated", "a bearer token is required")),
    403: ("The caller's roles or locality do not allow this",
          problem_example(403, "insufficient-role", "Insufficient role", "this needs one of the roles: operator")),
    404: ("No such resource (or not the caller's to see)",
          problem_example(404, "not-found", "Not found", "no case 5f0c…")),
    409: ("The request conflicts with the current state (or with a write made at the same moment)",
          problem_example(409, "conflict", "Conflict", "not allowed in status submitted", allowed=["accept"])),
    413: ("The body is over the size cap", problem_example(413, "too-large", "Request too large",
                                                          "the body is over 1048576 bytes")),
    415: ("The content type is not one accepted here",
          problem_example(415, "content-refused", "Content refused", "not PDF, JPEG, PNG or OFD")),
    416: ("The range cannot be served", problem_example(416, "range-not-satisfiable", "Range not satisfiable",
                                                       "the file has 1024 bytes")),
    422: ("Invalid request: every failing field is in `errors`",
          problem_example(422, "validation", "Invalid request", "invalid fields: body.applicant_id",
                          errors=[{"field": "body.applicant_id", "message": "String should have at least "
                                   "18 characters", "type": "string_too_short"}])),
    429: ("Too many attempts; retry after `Retry-After` seconds",
          problem_example(429, "too-many-attempts", "Too many attempts", "too many failed logins; retry later")),
    431: ("The request's headers are over the cap",
          problem_example(431, "headers-too-large", "Request header fields too large",
                          "the headers are over 16384 bytes")),
    502: ("A service this one depends on answered wrongly",
          problem_example(502, "bad-gateway", "Bad gateway", "the upstream answer cannot be read")),
    503: ("The database (or a service this one depends on) is away; retry after `Retry-After` seconds",
          problem_example(503, "unavailable", "Service unavailable", "the database is not reachable; retry shortly")),
}
"""Each status's description and example, as the services send them."""

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
_LOCATION = {"Location": {"description": "Where the created resource is (a path on this service).",
                          "required": True, "schema": {"type": "string"}}}


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """The OpenAPI response object of a problem with ``status``."""
    default, example = _CATALOGUE.get(status, ("Problem", problem_example(status, "problem", "Problem", "…")))
    response: dict[str, Any] = {
        "description": description or default,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}, "example": example}},
    }
    if status in (429, 503):
        response["headers"] = dict(_RETRY_AFTER)
    return response


def problems(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers further problems: ``problems(409, 415)``.

    A description of one's own is given by keyword: ``problems(**{"409": "already withdrawn"})``.
    """
    out: dict[int | str, dict[str, Any]] = {status: {"description": _CATALOGUE.get(status, ("Problem",))[0]}
                                            for status in statuses}
    for status, text in described.items():
        out[int(status)] = {"description": text}
    return out


def default_problems(method: str, operation: dict[str, Any]) -> set[int]:
    """The problems the frame can answer on an operation of this shape.

    Any request: 431 (header cap). Parameters or a body: 422. A body: 413 (body cap) and 400 (bytes
    that are not text, before any validation). Path
    parameters: 404. A bearer token: 401 and 403, and on writes 409 (a state or a concurrent write
    that conflicts). Every route but the probes: 503 (the database away).
    """
    found = {431}
    parameters = operation.get("parameters") or []
    if parameters or "requestBody" in operation:
        found.add(422)
    if "requestBody" in operation:
        found |= {400, 413}
    if any(p.get("in") == "path" for p in parameters):
        found.add(404)
    if operation.get("security"):
        found |= {401, 403}
        if method in UNSAFE:
            found.add(409)
    if PROBE_TAG not in (operation.get("tags") or []):
        found.add(503)
    return found


def _declares_own_body(response: dict[str, Any]) -> bool:
    """Whether a route declared an error body of its own (kept), not FastAPI's defaults."""
    content = response.get("content") or {}
    for media, body in content.items():
        schema = (body or {}).get("schema") or {}
        if media != "application/json" or (schema and "HTTPValidationError" not in str(schema)):
            return True
    return False


def declare_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a generated document in place (see the module's docstring); the document."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status in default_problems(method, operation):
                responses.setdefault(str(status), {})
            for code, response in list(responses.items()):
                if code.isdigit() and int(code) >= 400 and not _declares_own_body(response):
                    described = response.get("description")
                    own = described if described and described != "Validation Error" else None
                    responses[code] = problem_response(int(code), own)
                elif code == "201":
                    response.setdefault("headers", {}).update(_LOCATION)
            operation["responses"] = dict(sorted(responses.items()))
    return document


def _path_pattern(path: str, operations: dict[str, Any]) -> re.Pattern[str]:
    """A template's regular expression; a path parameter with a ``pattern`` matches only it."""
    patterns: dict[str, str] = {}
    for operation in operations.values():
        for parameter in operation.get("parameters") or []:
            if parameter.get("in") == "path" and "pattern" in parameter.get("schema", {}):
                patterns[parameter["name"]] = parameter["schema"]["pattern"].removeprefix("^").removesuffix("$")
    parts = re.split(r"\{([^}]+)\}", path)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?:{patterns.get(part, '[^/]+')})"
                    for i, part in enumerate(parts))
    return re.compile(f"^{regex}$")


def allowed_methods(app: FastAPI, path: str) -> str:
    """The ``Allow`` of a 405: every method the document declares on the path (all routes, not one)."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = [(_path_pattern(template, item), sorted(m.upper() for m in item if m in METHODS))
                 for template, item in app.openapi().get("paths", {}).items()]
        app.state.allow_table = table
    return ", ".join(sorted({m for regex, methods in table if regex.match(path) for m in methods}))


def operation_id(route: APIRoute) -> str:
    """A route's operationId: its function's name (``submit_case``), what a generated client calls it.

    FastAPI's default adds the path and method (``submit_case_v1_cases_post``); the names are unique
    within a service (``tests/unit/test_openapi_contract.py``).
    """
    return route.name


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the rewritten document (built once, like FastAPI's)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
