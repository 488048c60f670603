"""REST API of the webhooks service."""

from services.webhooks.api import deliveries, feed, subscriptions

routers = [subscriptions.router, deliveries.router, feed.feed, feed.health]

__all__ = ["routers"]
