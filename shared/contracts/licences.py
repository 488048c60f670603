"""Events of electronic licences (电子证照), published by the authorization service.

The holder appears only masked. A licence's events go to the issuing locality's topic and to the
topics of the holder's localities (those named when it was issued, and the case's), so every
locality that may be shown the licence hears when it is revoked.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from shared.envelope import Event, event_type


@event_type
class LicenceIssued(Event):
    """An issuing locality signed an electronic licence (the result of a case, or a licence it holds)."""

    type_name = "cn.tongban.authorization.licence.issued"

    licence_id: str
    identifier: str = Field(description="The licence's identifier (证照标识).")
    type_code: str
    licence_type_name: str
    number: str
    holder_masked: str = Field(description="The holder's name and number, masked.")
    issuing_locality: str
    issuing_authority: str
    valid_from: date
    valid_until: date | None = None
    file_sha256: str
    case_id: str | None = None
    item_code: str | None = None
    kid: str

    def subject(self) -> str:
        return self.licence_id


@event_type
class LicenceRevoked(Event):
    """An electronic licence was revoked: it no longer counts as a material anywhere."""

    type_name = "cn.tongban.authorization.licence.revoked"

    licence_id: str
    identifier: str
    number: str
    issuing_locality: str
    holder_masked: str
    reason: str = Field(min_length=1, description="Why, personal numbers masked.")
    case_id: str | None = None
    revoked_at: datetime

    def subject(self) -> str:
        return self.licence_id
