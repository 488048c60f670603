"""A pytest plugin that waits between collection and the first test (issue 12's check).

`pytest -p tests.support.pause` with TONGBAN_TEST_PAUSE_SECONDS=900 collects the tests, sleeps a quarter
of an hour, then runs them: any clock value taken at collection (parametrize lists, module constants,
default arguments, wide fixtures) would then be stale, and a test built on one fails.
"""

from __future__ import annotations

import os
import time

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    seconds = float(os.environ.get("TONGBAN_TEST_PAUSE_SECONDS", "0"))
    if seconds > 0:
        print(f"\npause: {len(session.items)} tests collected; waiting {seconds:.0f} s before running them")
        time.sleep(seconds)
