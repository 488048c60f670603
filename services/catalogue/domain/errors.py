"""Errors of the catalogue's rules."""

from __future__ import annotations


class ItemRuleViolation(ValueError):
    """A change that the life cycle of an item or a list does not allow (a conflict with its state)."""


class InvalidContent(ValueError):
    """Content that breaks a rule of the catalogue; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
