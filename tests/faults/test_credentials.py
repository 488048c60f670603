"""Bad credentials, at each of the four services (what the other credential tests do not cover).

``tests/unit/test_token_verifier.py`` checks every refusal of the verifier against a fake JWKS, and
``tests/integration/test_authorization.py::test_bad_tokens_are_refused_with_their_reasons`` checks
expired, not yet valid, wrong audience, wrong signature and a revoked client at routing alone. Here,
on real processes, every service is asked with:

- forged tokens: expired, not yet valid, another service's audience, another issuer, no ``jti``, a
  signature by another key under the issuer's key id, an unknown key id, ``alg: none``, HS256 keyed
  with the issuer's public key, and a token signed with a locality's own key (keys that sign
  agreements and attestations, not tokens);
- a real token asked for another service's audience;
- a real token of a client revoked afterwards (the ``ClientRevoked`` event reaches each service);
- the issuer's key retired by an operator's rotation: a token it signed before still holds, one
  signed with it afterwards does not, and tokens of the new key are accepted everywhere.

Access tokens are bearer tokens, valid until they expire however often they are presented: a
repeated ``jti`` is not refused, by design (docs/authorization.md), so no test claims otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.authorization import crypto
from services.authorization.domain.credentials import ISSUER
from services.authorization.service import Keyring
from shared.service import standalone
from shared.settings import AUDIENCES, SERVICE_NAMES, Settings
from tests.integration.conftest import System, SystemFactory
from tongban.registry import definition
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.keys import known_key
from tongban.testbed.world import S, query

PROBES = {"catalogue": "/v1/areas", "routing": f"/v1/cases/{uuid.uuid4()}", "authorization": "/v1/keys",
          "delivery": "/v1/delivery-targets", "webhooks": "/v1/subscriptions"}
"""A read of each service that needs a token (and no more)."""
SEAL_KEYS = {"t1": known_key("authorization", "signing-key-seal")}


async def _private_key(system: System, owner: str) -> tuple[str, Ed25519PrivateKey]:
    """The active signing key of ``owner`` (the issuer or a locality), unsealed from the database."""
    rows = await query(system.database_urls["authorization"],
                       "SELECT kid, sealed_private FROM signing_keys WHERE owner = :o AND status = 'active'", o=owner)
    kid, sealed = rows[0]
    raw = crypto.unseal_versioned(bytes(sealed), SEAL_KEYS, kid)
    return kid, Ed25519PrivateKey.from_private_bytes(raw)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Forger:
    """Tokens made outside the token endpoint, with the issuer's key or others."""

    def __init__(self, kid: str, key: Ed25519PrivateKey, client_id: str) -> None:
        self.kid, self.key, self.client_id = kid, key, client_id

    def claims(self, service: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": "tongban-authorization", "sub": self.client_id, "aud": [AUDIENCES[service]], "iat": now,
                  "nbf": now, "exp": now + 300, "jti": str(uuid.uuid4()), "locality": S,
                  "roles": ["window_clerk", "maintainer"]}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, service: str, key: Ed25519PrivateKey | None = None, kid: str | None = None,
             **overrides: Any) -> str:
        return jwt.encode(self.claims(service, **overrides), key or self.key, algorithm="EdDSA",
                          headers={"kid": kid or self.kid})

    def unsigned(self, service: str) -> str:
        head = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": self.kid}).encode())
        return f"{head}.{_b64(json.dumps(self.claims(service)).encode())}."

    def hs256(self, service: str) -> str:
        public = self.key.public_key().public_bytes_raw()
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.kid}).encode())
        body = _b64(json.dumps(self.claims(service)).encode())
        signature = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(signature)}"


def _other(service: str) -> str:
    return next(s for s in SERVICE_NAMES if s != service)


async def _refusal(http: httpx.AsyncClient, system: System, service: str, token: str) -> str:
    """The reason a service gives for refusing ``token`` (fails when it is not refused properly)."""
    response = await http.get(system.url(service) + PROBES[service], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, f"{service} accepted a bad token: {response.status_code} {response.text}"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    detail: str = response.json()["detail"]
    return detail


async def _accepted(http: httpx.AsyncClient, system: System, service: str, token: str) -> bool:
    response = await http.get(system.url(service) + PROBES[service], headers={"Authorization": f"Bearer {token}"})
    return response.status_code != 401


async def _real_token(http: httpx.AsyncClient, system: System, client: dict[str, Any],
                      audience: str | None = None) -> str:
    form = {"grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": client["client_secret"]}
    if audience:
        form["audience"] = audience
    response = await http.post(system.url("authorization") + "/oauth/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_every_service_refuses_bad_credentials(start_system: SystemFactory) -> None:
    system = await start_system()
    suzhou = system.credentials[S]
    issuer_kid, issuer_key = await _private_key(system, ISSUER)
    locality_kid, locality_key = await _private_key(system, S)
    forger = Forger(issuer_kid, issuer_key, suzhou["client_id"])
    stranger = Ed25519PrivateKey.generate()
    forged: dict[str, tuple[Callable[[str], str], str]] = {
        # name: (the token for a service, the start of the reason it is refused for)
        "expired": (lambda s: forger.sign(s, exp=int(time.time()) - 120, iat=int(time.time()) - 500,
                                          nbf=int(time.time()) - 500), "token expired"),
        "not yet valid": (lambda s: forger.sign(s, nbf=int(time.time()) + 600), "token not yet valid"),
        "another service's audience": (lambda s: forger.sign(s, aud=[AUDIENCES[_other(s)]]),
                                       "token not meant for this service"),
        "another issuer": (lambda s: forger.sign(s, iss="tongban-elsewhere"), "token from an unknown issuer"),
        "no jti": (lambda s: forger.sign(s, jti=None), "token lacks the claim jti"),
        "another key, the issuer's kid": (lambda s: forger.sign(s, key=stranger), "token signature does not verify"),
        "unknown kid": (lambda s: forger.sign(s, key=stranger, kid="kid-nobody-knows"),
                        "token signed by an unknown key"),
        "alg none": (forger.unsigned, "tokens must be signed with EdDSA"),
        "HS256 keyed with the public key": (forger.hs256, "tokens must be signed with EdDSA"),
        "a locality's own key": (lambda s: forger.sign(s, key=locality_key, kid=locality_kid),
                                 "token signed by a key that does not sign tokens"),
    }
    refused: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for service in SERVICE_NAMES:
            assert await _accepted(http, system, service, forger.sign(service)), f"{service}: a good forgery is good"
            for name, (make, reason) in forged.items():
                detail = await _refusal(http, system, service, make(service))
                assert detail.startswith(reason), f"{service}, {name}: {detail!r}"
                refused[name] = refused.get(name, 0) + 1
            # A real token asked for one service only is refused by the others.
            only_routing = await _real_token(http, system, suzhou, audience=AUDIENCES["routing"])
            if service == "routing":
                assert await _accepted(http, system, service, only_routing)
            else:
                detail = await _refusal(http, system, service, only_routing)
                assert detail.startswith("token not meant for this service"), detail
        unknown_audience = await http.post(system.url("authorization") + "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": suzhou["client_id"],
            "client_secret": suzhou["client_secret"], "audience": "tongban-elsewhere"})
        assert unknown_audience.status_code == 400 and unknown_audience.json()["error"] == "invalid_target"

        # A revoked client: each service refuses its token as soon as the ClientRevoked event arrives.
        registered = await http.post(system.url("authorization") + "/v1/clients", headers=await system.headers(S),
                                     json={"locality": S, "name": "soon revoked", "roles": ["window_clerk"]})
        temporary = registered.json()
        token = await _real_token(http, system, temporary)
        for service in SERVICE_NAMES:
            assert await _accepted(http, system, service, token)
        revoked = await http.post(system.url("authorization") + f"/v1/clients/{temporary['client_id']}/revoke",
                                  headers=await system.headers(S))
        assert revoked.status_code == 200
        for service in SERVICE_NAMES:
            async def refused_there(service: str = service) -> bool:
                return not await _accepted(http, system, service, token)

            await wait_for(refused_there, timeout=20, interval=0.2)
            assert await _refusal(http, system, service, token) == "client revoked"

        # The issuer's key retired by an operator's rotation (no endpoint rotates it: tongban's operators do).
        before = await _real_token(http, system, suzhou)
        await asyncio.sleep(1.1)  # the retirement comes strictly after the token's iat
        auth_env = system.services["authorization"].env
        settings = Settings.model_validate({k[len("TONGBAN_"):].lower(): v for k, v in auth_env.items()
                                            if k != "TONGBAN_DATABASE_URL"})
        async with standalone(definition("authorization"), settings, auth_env["TONGBAN_DATABASE_URL"]) as ctx, \
                ctx.uow() as uow:
            new_key, retired_key = await Keyring(ctx.keys).rotate(uow.session, ISSUER)
            await uow.commit()
        assert retired_key is not None and retired_key.kid == issuer_kid and retired_key.retired_at is not None
        after = await _real_token(http, system, suzhou)
        assert jwt.get_unverified_header(after)["kid"] == new_key.kid
        for service in SERVICE_NAMES:
            async def knows_new_key(service: str = service) -> bool:
                return await _accepted(http, system, service, after)

            await wait_for(knows_new_key, timeout=20, interval=0.5)
            assert await _accepted(http, system, service, before), f"{service}: signed before retirement, still good"
            # The retired key signing after its retirement (retirement and iat are whole seconds: one later).
            late = forger.sign(service, iat=retired_key.retired_at + 1, nbf=retired_key.retired_at + 1)
            detail = await _refusal(http, system, service, late)
            assert detail == "token signed with a retired key after its retirement", f"{service}: {detail}"
    assert all(n == len(SERVICE_NAMES) for n in refused.values())
    kinds = sorted([*forged, "real token, other audience", "revoked client", "retired key"])
    print(f"[faults] credentials: {len(kinds)} kinds refused at each of {len(SERVICE_NAMES)} services: {kinds}")
