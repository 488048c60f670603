"""Delivery's REST API: one router per resource (waybills, targets, the carrier webhook, the simulator)."""

from fastapi import APIRouter

from services.delivery.api.carrier import carrier_hmac_keys, carrier_key_name, carrier_router
from services.delivery.api.simulator import dev_router
from services.delivery.api.waybills import router, targets_router

routers: list[APIRouter] = [router, carrier_router, targets_router]
embedded_routers: list[APIRouter] = [dev_router]
"""Only in the embedded system (``tongban up``): the route does not exist under production settings."""

__all__ = ["carrier_hmac_keys", "carrier_key_name", "embedded_routers", "routers"]
