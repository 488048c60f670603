"""Delivery service: postal waybills and carrier tracking for materials and results."""
