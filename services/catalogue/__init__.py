"""Catalogue service: the item lists, business standards, procedures and windows."""
