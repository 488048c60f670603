"""Routing service: cross-locality cases, their life cycle and deadlines."""
