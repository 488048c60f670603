"""Which endpoints the dispatcher may call: HTTPS to public addresses, and nothing else by default.

The dispatcher must not be a way into other networks. An endpoint is refused when it is not HTTPS
(plain HTTP only to a loopback address, and only where the operator allows it), carries credentials,
or names a host that resolves to an address outside the public internet: loopback, private ranges,
link-local (where cloud metadata services answer, 169.254.169.254), shared address space (where
Alibaba Cloud's metadata answers, 100.100.100.200), unique-local IPv6, multicast, reserved. An
operator may list networks that are allowed anyway (a locality's system inside a private network).
The check runs on the addresses as resolved at each delivery, and the dispatcher connects to the
address it checked, so a name that later resolves elsewhere gains nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from services.webhooks.domain.errors import EndpointRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254",
))
"""Cloud metadata services (AWS, ECS, Alibaba Cloud, AWS IPv6), named in refusals."""


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint URL."""

    url: str
    scheme: str
    host: str
    port: int
    target: str
    """Path and query, as sent in the request line."""

    @property
    def literal_address(self) -> IPAddress | None:
        """The host when it is an IP address literal."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_endpoint(url: str) -> Endpoint:
    """Parse and normalise an endpoint URL; :class:`EndpointRefused` says what is wrong with it."""
    if len(url) > 2000:
        raise EndpointRefused("the URL is longer than 2000 characters")
    try:
        parts: SplitResult = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise EndpointRefused("the URL must be https:// (or http:// to loopback where allowed)")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("the URL must not carry credentials; the signature authenticates each delivery")
    if parts.fragment:
        raise EndpointRefused("the URL must not have a fragment")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise EndpointRefused("the URL has no host")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Endpoint(url=url.strip(), scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80),
                    target=target)


@dataclass(frozen=True)
class AddressPolicy:
    """Where deliveries may go: public addresses, the listed networks, loopback over HTTP if allowed."""

    allow_http_loopback: bool = False
    """Loopback endpoints are allowed (over HTTP too): development and tests only."""
    allowed_networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_text(cls, allow_http_loopback: bool, networks: str) -> AddressPolicy:
        """From the settings: a comma-separated list of CIDR networks."""
        parsed = tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks.split(",") if n.strip())
        return cls(allow_http_loopback, parsed)

    def listed(self, address: IPAddress) -> bool:
        """Whether an operator listed a network holding ``address``."""
        return any(address in net for net in self.allowed_networks if net.version == address.version)

    def check_scheme(self, endpoint: Endpoint) -> None:
        """Plain HTTP is for loopback only, and only where the setting allows it."""
        if endpoint.scheme == "http" and not self.allow_http_loopback:
            raise EndpointRefused("the URL must be https:// (plain HTTP is not allowed here)")

    def check_addresses(self, endpoint: Endpoint, addresses: Iterable[IPAddress]) -> None:
        """Refuse the endpoint unless every address it resolves to may be called."""
        found = list(addresses)
        if not found:
            raise EndpointRefused(f"{endpoint.host} does not resolve")
        for address in found:
            self._check(endpoint, _unmapped(address))

    def _check(self, endpoint: Endpoint, address: IPAddress) -> None:
        if address.is_loopback:
            if self.allow_http_loopback:
                return
            if self.listed(address):
                return
            raise EndpointRefused(f"{endpoint.host} resolves to a loopback address ({address})")
        if endpoint.scheme == "http":
            raise EndpointRefused(f"plain HTTP is allowed to loopback only; {endpoint.host} is {address}")
        if self.listed(address):
            return
        if address in METADATA_ADDRESSES:
            raise EndpointRefused(f"{endpoint.host} resolves to a cloud metadata address ({address})")
        if address.is_link_local:
            raise EndpointRefused(f"{endpoint.host} resolves to a link-local address ({address})")
        if address.is_multicast or address.is_unspecified or address.is_reserved:
            raise EndpointRefused(f"{endpoint.host} resolves to a non-unicast address ({address})")
        if not address.is_global:
            raise EndpointRefused(f"{endpoint.host} resolves to a private address ({address})")


def _unmapped(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``) is judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
