"""Which services' OpenAPI documents are complete: every 2xx has a schema, and responses conform to it.

A service joins :data:`TYPED_SERVICES` once each of its routes declares a response model;
``tests/unit/test_openapi_contract.py`` then checks its document, and the Schemathesis run
(``tests/faults/test_schemathesis.py``) checks every response of it against the document.
"""

from __future__ import annotations

TYPED_SERVICES: tuple[str, ...] = ("routing", "authorization", "delivery", "catalogue", "webhooks", "dashboard")
"""Services under response conformance: every one, the dashboard's JSON API included."""
