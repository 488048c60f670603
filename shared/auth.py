"""Verification of access tokens, used by every service.

Tokens are JWTs signed by the authorization service with its issuer key: EdDSA (Ed25519) or, under
the national suite, SM2SM3 (SM2 with SM3; docs/cryptography.md). The algorithm is the published
key's (its JWK's ``kty``/``crv``); a token whose header names another is refused. A service checks each one
against the published JWKS (cached; fetched again when a token names an unknown key id, and every
30 seconds), its own audience, the issuer, ``exp``/``nbf`` with a small leeway, and the list of
revoked clients; a route then names the roles it needs. Every endpoint requires a token except the
probes and the JWKS. Authentication cannot be switched off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.clock import Clock
from shared.clock import current as current_clock
from shared.crypto import BadSignature, InvalidKey, JwsError, PublicKey, public_key_from_jwk, verify_compact
from shared.problems import Problem


class Role(StrEnum):
    """What a locality system may do (the first six), or what the joint office does for the region.

    The ``regional_*`` roles act on what every locality shares: the catalogue's items, lists and
    imports; the statutory calendar that every deadline is counted on; the dashboard's view of the
    whole region. A locality's maintainer cannot grant them (see docs/authorization.md).
    """

    WINDOW_CLERK = "window_clerk"
    DEPARTMENT_OFFICER = "department_officer"
    SUPERVISOR = "supervisor"
    MAINTAINER = "maintainer"
    OPERATOR = "operator"
    CARRIER = "carrier"
    REGIONAL_CATALOGUE = "regional_catalogue"
    REGIONAL_CALENDAR = "regional_calendar"
    REGIONAL_OPERATOR = "regional_operator"
    REGIONAL_SUPERVISOR = "regional_supervisor"
    """Decides the localities' appeals against applicants' evaluations (issue 17, docs/evaluations.md)."""


REGIONAL_ROLES = frozenset({Role.REGIONAL_CATALOGUE, Role.REGIONAL_CALENDAR, Role.REGIONAL_OPERATOR,
                            Role.REGIONAL_SUPERVISOR})
"""Roles of the joint office: granted only with ``tongban clients register``, never by a locality."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: a client of one locality, with roles, from a verified token."""

    client_id: str
    locality: str
    roles: frozenset[str]
    token_id: str
    expires_at: datetime
    token: str = field(default="", repr=False, compare=False)
    """The bearer token itself, forwarded when this service asks another on the caller's behalf."""

    def has(self, *roles: str) -> bool:
        """Whether the caller holds any of ``roles``."""
        return bool(self.roles.intersection(roles))


class Unauthenticated(Problem):
    """No token, or a token that does not verify: 401 with the reason."""

    status, slug, title = 401, "unauthenticated", "Unauthenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(
            detail,
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'},
        )


class InsufficientRole(Problem):
    """A verified caller without the role a route needs: 403."""

    status, slug, title = 403, "insufficient-role", "Insufficient role"


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


def http_jwks_fetcher(url: str) -> JwksFetcher:
    """Fetch the JWKS document over HTTP."""

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document

    return fetch


class JwksCache:
    """The published keys and revoked clients, cached and refreshed when needed."""

    def __init__(self, fetch: JwksFetcher, max_age: float = 30.0, min_refresh_interval: float = 2.0) -> None:
        self._fetch = fetch
        self.max_age = max_age
        self.min_refresh_interval = min_refresh_interval
        self._keys: dict[str, dict[str, Any]] = {}
        self._revoked_clients: set[str] = set()
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self, force: bool = False) -> None:
        """Fetch the document again (at most once per ``min_refresh_interval`` unless forced)."""
        async with self._lock:
            if not force and time.monotonic() - self._fetched_at < self.min_refresh_interval:
                return
            try:
                document = await self._fetch()
            except Exception as exc:
                if not self._keys:
                    raise Unauthenticated(f"signing keys unavailable: {type(exc).__name__}") from exc
                return  # keep the keys we have
            self._keys = {k["kid"]: k for k in document.get("keys", []) if "kid" in k}
            self._revoked_clients |= set(document.get("tongban_revoked_clients", []))
            self._fetched_at = time.monotonic()

    async def key(self, kid: str) -> dict[str, Any] | None:
        """The JWK of ``kid``, refreshing when it is unknown or the cache is old."""
        if kid not in self._keys or time.monotonic() - self._fetched_at > self.max_age:
            await self.refresh()
        return self._keys.get(kid)

    def revoke_client(self, client_id: str) -> None:
        """Refuse a client's tokens from now on (fed by ``ClientRevoked`` events)."""
        self._revoked_clients.add(client_id)

    def client_revoked(self, client_id: str) -> bool:
        """Whether a client's tokens are refused."""
        return client_id in self._revoked_clients


class TokenVerifier:
    """Checks access tokens for one audience.

    A window's system sends the same token with every request for its five minutes, so the outcome
    of the signature and the fixed claims (issuer, audience, required claims) is remembered per
    token string (a bounded cache). What can change is checked again on every use: the key must
    still be published (a revoked key is dropped from the JWKS), the time must be within ``nbf`` and
    ``exp`` (with the leeway), the key's retirement, and the client's revocation.
    """

    max_cached = 4096

    def __init__(
        self, jwks: JwksCache, issuer: str, audience: str, leeway: int = 30, clock: Clock | None = None
    ) -> None:
        self.jwks, self.issuer, self.audience, self.leeway = jwks, issuer, audience, leeway
        self.clock = clock or current_clock()
        """Where "now" comes from for ``exp``, ``nbf`` and ``iat`` (injectable for tests)."""
        self._verified: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        """Token → (the JWK that verified it, its claims)."""
        self._keys: dict[tuple[str, str, str], PublicKey] = {}

    async def verify(self, token: str) -> Caller:
        """The caller of a valid token; :class:`Unauthenticated` with the reason otherwise."""
        known = self._verified.get(token)
        if known is None:
            return self._caller(await self._verify_signature(token))
        signer, claims = known
        jwk = await self.jwks.key(str(signer["kid"]))
        if jwk is None:
            raise Unauthenticated("token signed by an unknown key")
        if (jwk.get("x"), jwk.get("y")) != (signer.get("x"), signer.get("y")) or jwk.get("tongban_use") != "token":
            return self._caller(await self._verify_signature(token))  # not the key that verified it
        self._check_times(claims)
        self._check_current(jwk, claims)
        return self._caller(claims)

    def _check_times(self, claims: dict[str, Any]) -> None:
        """``exp``, ``nbf`` and ``iat`` against this verifier's clock, with the leeway."""
        times = [claims.get(name) for name in ("exp", "nbf", "iat")]
        if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
            raise Unauthenticated("token times (exp, nbf, iat) must be numbers")
        exp, nbf, iat = (float(t) for t in times)  # type: ignore[arg-type]
        now = self.clock.time()
        if exp + self.leeway <= now:
            raise Unauthenticated("token expired")
        if nbf - self.leeway > now or iat - self.leeway > now:
            raise Unauthenticated("token not yet valid")

    def _check_current(self, jwk: dict[str, Any], claims: dict[str, Any]) -> None:
        retired_at = jwk.get("tongban_retired_at")
        if retired_at is not None and claims["iat"] > retired_at:
            raise Unauthenticated("token signed with a retired key after its retirement")
        if self.jwks.client_revoked(claims["sub"]):
            raise Unauthenticated("client revoked")

    def _caller(self, claims: dict[str, Any]) -> Caller:
        locality, roles = claims.get("locality"), claims.get("roles")
        if not isinstance(locality, str) or not isinstance(roles, list):
            raise Unauthenticated("token lacks locality or roles")
        return Caller(
            client_id=claims["sub"],
            locality=locality,
            roles=frozenset(str(r) for r in roles),
            token_id=claims["jti"],
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )

    def _public_key(self, jwk: dict[str, Any]) -> PublicKey:
        """The JWK as a key of the algorithm its ``kty``/``crv`` name (cached)."""
        cache_key = (str(jwk.get("kid", "")), str(jwk.get("x", "")), str(jwk.get("y", "")))
        key = self._keys.get(cache_key)
        if key is None:
            try:
                key = self._keys[cache_key] = public_key_from_jwk(jwk)
            except InvalidKey as exc:
                raise Unauthenticated(f"token signed by an unusable key: {exc}") from None
        return key

    async def _verify_signature(self, token: str) -> dict[str, Any]:
        # PyJWT refuses odd headers (``crit``, a non-string ``kid``, ...) with InvalidTokenError, and a
        # header nested deep enough with RecursionError: whatever it raises, the token is malformed.
        try:
            header = jwt.get_unverified_header(token)
        except Exception:
            raise Unauthenticated("malformed token") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token names no key id")
        jwk = await self.jwks.key(kid)
        if jwk is None:
            raise Unauthenticated("token signed by an unknown key")
        if jwk.get("tongban_use") != "token":
            raise Unauthenticated("token signed by a key that does not sign tokens")
        public = self._public_key(jwk)
        if header.get("alg") != public.algorithm.jose:
            raise Unauthenticated(f"tokens must be signed with {public.algorithm.jose}")  # the key's algorithm
        try:
            verify_compact(token, public)  # the key's algorithm, never the header's choice
        except BadSignature:
            raise Unauthenticated("token signature does not verify") from None
        except JwsError as exc:
            raise Unauthenticated(f"malformed token: {exc}") from None
        try:
            claims = jwt.decode(
                token,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"verify_signature": False, "verify_aud": True, "verify_iss": True,
                         "require": ["exp", "nbf", "iat", "jti", "aud", "iss", "sub"],
                         "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidAudienceError:
            raise Unauthenticated(f"token not meant for this service (audience {self.audience})") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("token from an unknown issuer") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token lacks the claim {exc.claim}") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        except Exception as exc:  # a signed token whose payload PyJWT cannot read (e.g. nested too deep)
            raise Unauthenticated(f"malformed token: {type(exc).__name__}") from None
        _check_claim_types(claims)
        self._check_times(claims)
        self._check_current(jwk, claims)
        self._caller(claims)  # a token without locality or roles is refused, and not remembered
        if len(self._verified) >= self.max_cached:
            self._verified.pop(next(iter(self._verified)))  # the oldest entry
        self._verified[token] = (jwk, claims)
        return claims


_LATEST_TIMESTAMP = 253402300799
"""9999-12-31T23:59:59Z: later times cannot be held by a datetime."""


def _check_claim_types(claims: dict[str, Any]) -> None:
    """Refuse claims of the wrong type, which only a signing key could put there, before anything uses them."""
    for name in ("sub", "jti"):
        if not isinstance(claims.get(name), str):
            raise Unauthenticated(f"token claim {name} must be a string")
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= _LATEST_TIMESTAMP:
            raise Unauthenticated(f"token claim {name} must be a time in seconds")
    roles = claims.get("roles")
    if isinstance(roles, list) and not all(isinstance(role, str) for role in roles):
        raise Unauthenticated("token roles must be strings")


_bearer = HTTPBearer(auto_error=False, description="Access token from POST /oauth/token")


async def authenticated(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Caller:
    """FastAPI dependency: the verified caller of the request."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated("a bearer token is required")
    verifier: TokenVerifier = request.app.state.ctx.verifier
    caller = replace(await verifier.verify(credentials.credentials), token=credentials.credentials)
    request.state.caller = caller
    return caller


def require(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    """FastAPI dependency factory: a verified caller holding one of ``roles``."""
    names = [r.value for r in roles]

    async def dependency(caller: Caller = Depends(authenticated)) -> Caller:
        if names and not caller.has(*names):
            raise InsufficientRole(f"this needs one of the roles: {', '.join(names)}")
        return caller

    return dependency
