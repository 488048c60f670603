"""Identity and phone numbers masked in free text, before it reaches events, views and logs.

Pure: no I/O. Routing masks the reasons it is given; the dashboard masks whatever it shows.
"""

from __future__ import annotations

import re

_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_ALNUM_AFTER = r"(?![0-9A-Za-z])"
RESIDENT_ID = re.compile(_ALNUM_BEFORE + r"(\d{6})(\d{8})(\d{3}[0-9Xx])" + _ALNUM_AFTER)
"""Anything shaped like an 18-character resident identity number (GB 11643), checked or not."""
USCC = re.compile(_ALNUM_BEFORE + r"([0-9A-HJ-NPQRTUWXY]{2}\d{6})([0-9A-HJ-NPQRTUWXY]{6})([0-9A-HJ-NPQRTUWXY]{4})"
                  + _ALNUM_AFTER)
"""Anything shaped like a unified social credit code (GB 32100)."""
MOBILE = re.compile(r"(?<![0-9A-Za-z+])((?:\+?86[- ]?)?1[3-9]\d)(\d{4})(\d{4})" + _ALNUM_AFTER)
"""A mainland mobile number, with or without +86."""
LANDLINE = re.compile(r"(?<![0-9A-Za-z])(0\d{2,3})[- ](\d{3,4})(\d{4})" + _ALNUM_AFTER)
"""A landline number with its area code: 021-6512 3456, 0551-1234567."""

def mask_text(text: str) -> str:
    """``text`` with identity numbers, credit codes and phone numbers masked (``110105********002X``)."""
    text = RESIDENT_ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text)
    text = USCC.sub(lambda m: m.group(1) + "*" * 6 + m.group(3), text)
    text = MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    return LANDLINE.sub(lambda m: m.group(1) + "-" + "*" * len(m.group(2)) + m.group(3), text)
