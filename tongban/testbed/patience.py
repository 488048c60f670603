"""How long a test waits for a condition: the test's own bound, stretched for busy machines.

A wait polls for a condition and ends as soon as it holds, so a wide bound costs nothing when the
system works; it only decides how long a broken run takes to fail. CI may run on a machine far busier
than a developer's, so every bound a test names is multiplied by ``TONGBAN_TEST_PATIENCE`` (default 3).
"""

from __future__ import annotations

import os
import time


def patience() -> float:
    """The factor applied to every wait's bound (``TONGBAN_TEST_PATIENCE``, default 3)."""
    return max(float(os.environ.get("TONGBAN_TEST_PATIENCE", "3") or 3), 1.0)


def deadline(timeout: float) -> float:
    """The monotonic instant a wait of ``timeout`` seconds (stretched by the patience) gives up."""
    return time.monotonic() + timeout * patience()
