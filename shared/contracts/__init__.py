"""The published language: every event type that crosses service boundaries.

Each service publishes the events of its own module here and reads those of the others; the
models are the contract between them (services never import one another). Importing this package
registers every event type, so a consumer can tell a known event from an unknown one.
"""

from shared.contracts import (
    authorization,
    catalogue,
    commitments,
    delivery,
    evaluations,
    files,
    licences,
    routing,
    webhooks,
)

__all__ = ["authorization", "catalogue", "commitments", "delivery", "evaluations", "files", "licences", "routing",
           "webhooks"]
