"""Delivery's pure rules: waybills and their tracking, S10 numbers, addresses, carrier signatures, journeys.

No I/O. The waybill aggregate and its rules are in ``waybills``; everything public is re-exported
here, so ``from services.delivery.domain import Waybill`` is the way in.
"""

from services.delivery.domain.waybills import *  # noqa: F403 - the aggregate's module: every public name
