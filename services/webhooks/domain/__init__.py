"""The rules of the webhooks service: subscriptions, deliveries, endpoints. No I/O."""

from services.webhooks.domain.deliveries import DELIVERED, PENDING, Attempt, Delivery, RetryPolicy
from services.webhooks.domain.endpoints import AddressPolicy, Endpoint, parse_endpoint
from services.webhooks.domain.errors import EndpointRefused, InvalidSubscription, NotAllowedNow, WebhookError
from services.webhooks.domain.subscriptions import SigningSecret, Subscription, check_event_types

__all__ = [
    "DELIVERED", "PENDING", "AddressPolicy", "Attempt", "Delivery", "Endpoint", "EndpointRefused",
    "InvalidSubscription", "NotAllowedNow", "RetryPolicy", "SigningSecret", "Subscription", "WebhookError",
    "check_event_types", "parse_endpoint",
]
