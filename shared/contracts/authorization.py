"""Events of the authorization service."""

from __future__ import annotations

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
