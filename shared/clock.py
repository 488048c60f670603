"""One clock for the whole system: every rule that depends on the time or the date reads it here.

Working days, due dates, token lifetimes and webhook windows all depend on "now". Reading it from
one injectable :class:`Clock` lets tests pin the date they mean (a Monday before the Spring
Festival, the last working day of a year) instead of whatever day the suite happens to run, and
lets a demonstration replay a chosen day. Production uses the system clock: the offset setting
(``TONGBAN_CLOCK_OFFSET_SECONDS``) is zero unless someone sets it deliberately.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
"""China Standard Time (UTC+8, no daylight saving): where working days are counted."""


class Clock:
    """The current instant, as the system should see it: the system clock plus a fixed offset.

    Every process of one deployment (or one test) gets the same offset, so their clocks agree:
    a token issued by one service is current for the others.
    """

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = float(offset_seconds)

    @classmethod
    def starting_at(cls, instant: datetime) -> Clock:
        """A clock that reads ``instant`` now and runs on from there."""
        if instant.tzinfo is None:
            raise ValueError("the starting instant needs an explicit offset")
        return cls(instant.timestamp() - time.time())

    def time(self) -> float:
        """Seconds since the epoch (what JWT ``exp``/``nbf`` and webhook timestamps are made of)."""
        return time.time() + self.offset_seconds

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.fromtimestamp(self.time(), UTC)

    def today(self) -> date:
        """Today's date in China, where the statutory working days are counted."""
        return self.now().astimezone(CHINA).date()

    def advance(self, seconds: float) -> None:
        """Move the clock on (tests of expiry and deadlines)."""
        self.offset_seconds += seconds


class FrozenClock(Clock):
    """A clock that stands still until it is moved: for tests of pure rules (expiry, due dates)."""

    def __init__(self, at: float | datetime) -> None:
        super().__init__(0.0)
        self._at = at.timestamp() if isinstance(at, datetime) else float(at)

    def time(self) -> float:
        """The instant the clock stands at."""
        return self._at

    def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds``."""
        self._at += seconds


_current = Clock()


def current() -> Clock:
    """The process's clock (installed from the settings when a service starts)."""
    return _current


def install(clock: Clock) -> Clock:
    """Make ``clock`` the process's clock; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


def with_offset(offset_seconds: float) -> Clock:
    """The process's clock with ``offset_seconds``, installed if the current one differs."""
    if _current.offset_seconds != float(offset_seconds):
        install(Clock(offset_seconds))
    return _current
