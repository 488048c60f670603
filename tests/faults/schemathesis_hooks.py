"""Schemathesis hooks of the fault suite (loaded through ``SCHEMATHESIS_HOOKS``): every error is problem+json."""

from __future__ import annotations

from typing import Any

import schemathesis

PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def problem_details_on_errors(ctx: Any, response: Any, case: Any) -> None:
    """A 4xx or 5xx response is an RFC 9457 problem: ``application/problem+json`` with type, title and status."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.split(";")[0].strip() != PROBLEM_JSON:
        raise AssertionError(f"{response.status_code} answered as {content_type!r}, not {PROBLEM_JSON}")
    body = response.json()
    missing = [k for k in ("type", "title", "status") if k not in body]
    if missing or body.get("status") != response.status_code:
        raise AssertionError(f"problem body lacks {missing} or its status differs: {body}")
    return None
