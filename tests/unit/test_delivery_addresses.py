"""Structured addresses, postcodes, masked phones; S10 and carriers' own numbers; reference data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.delivery.domain import (
    Address,
    Carrier,
    InvalidAddress,
    mask_name,
    mask_phone,
    s10_check_digit,
    s10_number,
    s10_problem,
    tracking_number_problem,
    validate_address,
)
from services.delivery.reference import reference

HOME = Address(name="张三", phone="138 1234 5678", province="江苏省", city="苏州市", district="虎丘区",
               street="  狮山路   1 号 ", postcode="215011")


def test_a_valid_address_is_trimmed() -> None:
    address = validate_address(HOME)
    assert address.street == "狮山路 1 号" and address.phone == "13812345678"


@pytest.mark.parametrize(("change", "field"), [
    ({"postcode": "21501"}, "postcode"),
    ({"postcode": "915011"}, "postcode"),
    ({"postcode": "236800"}, "postcode"),  # an Anhui postcode for a Jiangsu address
    ({"province": "上海市", "postcode": "318000"}, "postcode"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "23812345678"}, "phone"),
    ({"street": "  "}, "street"),
    ({"name": ""}, "name"),
])
def test_invalid_addresses(change: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidAddress) as raised:
        validate_address(replace(HOME, **change))
    assert raised.value.field == field


def test_other_provinces_are_checked_for_shape_only() -> None:
    validate_address(replace(HOME, province="广东省", city="广州市", district="天河区", postcode="510000"))


def test_landlines() -> None:
    assert validate_address(replace(HOME, phone="0512-68661234")).phone == "0512-68661234"
    assert validate_address(replace(HOME, phone="02155550110")).phone == "02155550110"


def test_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0512-68661234") == "051*-****1234"
    assert mask_phone("021-55550110") == "021-****0110"
    assert mask_phone("12345") == "*****"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"


def _serial_with_remainder(remainder: int) -> str:
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    for n in range(10**6):
        serial = f"{n:08d}"
        if sum(int(d) * w for d, w in zip(serial, weights, strict=True)) % 11 == remainder:
            return serial
    raise AssertionError


def test_s10_problems_say_why() -> None:
    assert s10_problem("EA123456785CN") is None
    assert "check digit 4 (expected 5)" in (s10_problem("EA123456784CN") or "")
    assert "not an S10" in (s10_problem("1012345678901") or "")
    zero, five = _serial_with_remainder(1), _serial_with_remainder(0)
    assert s10_check_digit(zero) == 0 and s10_check_digit(five) == 5
    assert s10_problem(f"EA{zero}0CN") is None and s10_problem(f"EA{five}5CN") is None
    assert s10_problem(f"EA{zero}5CN") is not None and s10_problem(f"EA{five}0CN") is not None
    assert s10_number(int(zero)).endswith("0CN") and s10_number(int(five)).endswith("5CN")


def test_a_carriers_own_numbers_only_for_that_carrier() -> None:
    ems = Carrier("ems", "EMS", r"^1\d{12}$")
    registered = Carrier("cnpost", "挂号信")
    assert tracking_number_problem("1012345678901", ems) is None
    assert tracking_number_problem("1012345678901", registered) is not None
    assert tracking_number_problem("1012345678901") is not None
    assert tracking_number_problem("EA123456785CN", registered) is None
    assert tracking_number_problem("EA123456784CN", ems) is not None


def test_reference_data_is_valid() -> None:
    ref = reference()
    assert ref.carrier(ref.default_carrier) is not None
    for code in ("310110", "320505", "331000", "341600"):
        assert ref.office(code, "window") is not None and ref.office(code, "department") is not None
        for other in ("310110", "320505", "331000", "341600"):
            if other != code:
                assert ref.targets.target(code, other) in range(12, 97)
