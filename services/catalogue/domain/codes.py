"""National codes of an item: the basic-catalogue code (基本目录) and each locality's implementation code
(实施清单), after GB/T 39554.1-2020. Pure.

The standard's public summaries say that every item of the basic catalogue has a unique code and every
item of a locality's implementation list a code of its own below it (a business-handling item sits below
a sub-item, split by new / change / renew / cancel), made for computers to read; the segment-by-segment
structure is in the standard's full text, which is not public. Tongban therefore checks the shape only:
digits and capital letters, of a length the codes seen in published implementation lists have, and
never invents a code ("" stands for one not yet known). See docs/exports.md.
"""

from __future__ import annotations

import re

from services.catalogue.domain.errors import InvalidContent

NATIONAL_CODE = re.compile(r"^[0-9A-Z]{12,24}$")
"""A basic-catalogue code: 12 to 24 digits or capital letters."""
IMPLEMENTATION_CODE = re.compile(r"^[0-9A-Z]{16,48}$")
"""An implementation-list code: 16 to 48 digits or capital letters."""


def check_national_code(value: str) -> str:
    """The basic-catalogue code, stripped; "" for none; :class:`InvalidContent` for a wrong shape."""
    code = value.strip()
    if code and not NATIONAL_CODE.match(code):
        raise InvalidContent("national_code", f"basic-catalogue code {code!r} must match {NATIONAL_CODE.pattern} "
                                              "(GB/T 39554.1-2020: digits and capital letters)")
    return code


def check_implementation_code(value: str) -> str:
    """A locality's implementation code, stripped; "" for none; :class:`InvalidContent` for a wrong shape."""
    code = value.strip()
    if code and not IMPLEMENTATION_CODE.match(code):
        raise InvalidContent("implementation_code", f"implementation code {code!r} must match "
                                                    f"{IMPLEMENTATION_CODE.pattern} (GB/T 39554.1-2020)")
    return code
