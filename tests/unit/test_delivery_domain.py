"""UPU S10 tracking numbers."""

from __future__ import annotations

import pytest

from services.delivery.domain import is_s10, s10_check_digit, s10_number


def test_published_examples() -> None:
    assert is_s10("RR473124829GB")
    assert is_s10("EA123456785CN")
    assert s10_number(12345678) == "EA123456785CN"


def _serial_with_remainder(remainder: int) -> str:
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    for n in range(1, 10**6):
        serial = f"{n:08d}"
        if sum(int(d) * w for d, w in zip(serial, weights, strict=True)) % 11 == remainder:
            return serial
    raise AssertionError


def test_check_digit_edge_cases_0_and_5() -> None:
    assert s10_check_digit(_serial_with_remainder(1)) == 0  # 11 - 1 = 10 becomes 0
    assert s10_check_digit(_serial_with_remainder(0)) == 5  # 11 - 0 = 11 becomes 5
    for remainder, digit in ((1, 0), (0, 5)):
        number = f"EA{_serial_with_remainder(remainder)}{digit}CN"
        assert is_s10(number)


@pytest.mark.parametrize("number", ["EA123456784CN", "EA12345678CN", "ea123456785cn", "E1123456785CN", ""])
def test_wrong_numbers_are_refused(number: str) -> None:
    assert not is_s10(number)


def test_serial_range() -> None:
    with pytest.raises(ValueError):
        s10_number(100_000_000)
