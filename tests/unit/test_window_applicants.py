"""The applicant and the agent (issue 16, part C): their rules and their masked forms."""

from __future__ import annotations

from datetime import date

import pytest

from services.routing.domain.applicants import Agent, Applicant, InvalidParty

TODAY = date(2026, 12, 2)
PERSON = {"kind": "person", "name": "王小明", "id_kind": "resident_id", "id_number": "11010519491231002x",
          "phone": "13812345678", "address": "上海市杨浦区国和路100号"}


def test_a_person_is_checked_and_masked() -> None:
    person = Applicant.of(PERSON, "11010519491231002X", TODAY)
    assert person.id_number == "11010519491231002X"
    assert person.masked() == {"kind": "person", "name": "王**", "id_kind": "resident_id",
                               "id_number": "1101**********002X", "phone": "138****5678",
                               "address": "上海市杨浦区****", "legal_representative": ""}
    with pytest.raises(InvalidParty, match="not the case's applicant_id"):
        Applicant.of(PERSON, "110105194912310029", TODAY)
    with pytest.raises(InvalidParty, match="phone"):
        Applicant.of({**PERSON, "phone": "12345"}, "11010519491231002X", TODAY)
    with pytest.raises(InvalidParty, match="empty"):
        Applicant.of({**PERSON, "name": " \u3000 "}, "11010519491231002X", TODAY)


def test_an_enterprise_shows_its_name_and_hides_its_representative() -> None:
    firm = Applicant.of({"kind": "enterprise", "name": "亳州市某某药业有限公司", "uscc": "91341600MA2TXXXX0X",
                         "legal_representative": "李建国", "phone": "0558-5551234"}, "91341600MA2TXXXX0X", TODAY)
    assert firm.masked()["name"] == "亳州市某某药业有限公司" and firm.masked()["legal_representative"] == "李**"


def test_an_agent_brings_the_authorisation_letter_among_the_materials() -> None:
    agent = {"name": "赵六", "id_kind": "passport", "id_number": "E12345678", "phone": "13900001111",
             "authorisation_letter": "授权委托书"}
    assert Agent.of(agent, ["身份证", "授权委托书"], TODAY).masked()["id_number"] == "E1*****78"
    with pytest.raises(InvalidParty, match="not among the case's materials"):
        Agent.of(agent, ["身份证"], TODAY)
