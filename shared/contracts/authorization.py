"""Events of the authorization service."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.envelope import Event, event_type


@event_type
class ClientRegistered(Event):
    """A locality system was given client credentials."""

    type_name = "cn.tongban.authorization.client.registered"

    client_id: str
    locality: str
    roles: list[str]

    def subject(self) -> str:
        return self.client_id


@event_type
class ClientRevoked(Event):
    """A locality system's client credentials were revoked."""

    type_name = "cn.tongban.authorization.client.revoked"

    client_id: str
    locality: str

    def subject(self) -> str:
        return self.client_id


@event_type
class AgreementChanged(Event):
    """An agreement was drafted, signed by a party, activated, suspended, resumed or terminated."""

    type_name = "cn.tongban.authorization.agreement.changed"

    agreement_id: str
    change: str
    status: str
    party: str
    parties: list[str]
    unsigned_parties: list[str] = Field(default_factory=list)
    reason: str = ""

    def subject(self) -> str:
        return self.agreement_id


@event_type
class ConsentGranted(Event):
    """An applicant consented to a records query between two localities."""

    type_name = "cn.tongban.authorization.consent.granted"

    consent_id: str
    item_code: str
    data_kind: str
    requester: str
    holder: str
    expires_at: datetime

    def subject(self) -> str:
        return self.consent_id


@event_type
class ConsentRevoked(Event):
    """An applicant revoked a consent."""

    type_name = "cn.tongban.authorization.consent.revoked"

    consent_id: str
    requester: str
    holder: str

    def subject(self) -> str:
        return self.consent_id


@event_type
class AttestationIssued(Event):
    """A window's acceptance of a case was attested with the accepting locality's key."""

    type_name = "cn.tongban.authorization.attestation.issued"

    attestation_id: str
    case_id: str
    issuer: str
    owners: list[str]
    kid: str

    def subject(self) -> str:
        return self.case_id
