"""Webhooks service: each locality's event feed and signed webhooks to its systems."""
