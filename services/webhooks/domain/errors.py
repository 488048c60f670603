"""Domain errors of the webhooks service; the API maps each to a problem."""

from __future__ import annotations


class WebhookError(Exception):
    """Base of the domain's refusals."""


class EndpointRefused(WebhookError):
    """The endpoint URL, or an address it resolves to, is not one the dispatcher may call."""


class InvalidSubscription(WebhookError):
    """The subscription's fields break a rule (event types, description)."""


class NotAllowedNow(WebhookError):
    """The action does not fit the subscription's or delivery's current state."""
