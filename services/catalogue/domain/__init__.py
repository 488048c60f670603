"""The catalogue's rules, free of I/O: items, standards, procedures, windows, lists, diffs, search
terms, cursors and the tabular import/export format."""

from services.catalogue.domain.errors import InvalidContent, ItemRuleViolation
from services.catalogue.domain.items import (
    HANDLING_MODES,
    ITEM_CODE,
    ITEM_STATUSES,
    OWNERSHIP_RULES,
    WINDOW_MODES,
    Item,
    ItemStatus,
)
from services.catalogue.domain.lists import LIST_ID, CatalogueList, ListEntry, publish_list
from services.catalogue.domain.standards import Material, Procedure, ProcedureStep, Standard, Window

__all__ = [
    "HANDLING_MODES",
    "ITEM_CODE",
    "ITEM_STATUSES",
    "LIST_ID",
    "OWNERSHIP_RULES",
    "WINDOW_MODES",
    "CatalogueList",
    "InvalidContent",
    "Item",
    "ItemRuleViolation",
    "ItemStatus",
    "ListEntry",
    "Material",
    "Procedure",
    "ProcedureStep",
    "Standard",
    "Window",
    "publish_list",
]
