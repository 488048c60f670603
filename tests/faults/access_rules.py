"""Who may call each operation of each service: the table the access matrix checks.

One row per operation of the four OpenAPI documents (the matrix fails when a document has an
operation without a row, or a row names an operation that no longer exists). A row says:

- ``roles``: the roles of which the caller needs one (empty: any verified caller);
- ``scope``: ``world`` when the request aims at a resource of one locality pair's world (a case,
  its waybill, their agreement, the attestation, the consent, a client or key of the accepting
  locality); ``shared`` when it is about reference data every locality shares, or the caller's own
  locality only; ``locality`` when the request names one locality's part of shared data (its
  business standard of an item, its window, the requester of a consent): it is sent once for each
  locality as ``{target}``, and a caller holding the role but of another locality gets 403, unless it
  holds one of ``regional`` (the joint office's roles, which act for every locality); ``public`` when
  it needs no token at all (probes, JWKS, the token endpoint);
- ``parties``: which of the world's two localities the resource belongs to (``both``, the
  ``acceptor`` that accepted the case, or the ``owner`` that handles it); everyone else is a
  stranger to it;
- ``sees``: the world id that a party holding the role must find in the 2xx answer;
- ``query`` and ``body``: a request that passes the access checks but changes nothing (a domain rule
  refuses it afterwards), with ``{case_id}``-style placeholders filled from the world;
- ``mutates``: no harmless request exists (an authorized party would change the world): the
  authorized parties are not sent it, everyone else is;
- ``authorized``: the answers an authorized caller may get, when narrower than "not 401/403/404".

The rules restate the services' documentation (docs/authorization.md, docs/routing.md,
docs/catalogue.md, docs/delivery.md): the catalogue is shared reference data whose items, lists,
procedures, areas and imports only the joint office writes (``regional_catalogue``), while each
locality's maintainer writes its own standards and windows; the statutory calendar is the joint
office's (``regional_calendar``); a case, waybill, agreement, attestation or consent is visible only
to the localities it concerns, and only the requesting locality records a consent; a client acts for
its own locality only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tongban.testbed.world import ITEM, ITEM_CODE, Y

CLERK, OFFICER, SUPERVISOR = "window_clerk", "department_officer", "supervisor"
MAINTAINER, OPERATOR, CARRIER = "maintainer", "operator", "carrier"
CATALOGUE, CALENDAR, REGIONAL_OPERATOR = "regional_catalogue", "regional_calendar", "regional_operator"
ROLES = (CLERK, OFFICER, SUPERVISOR, MAINTAINER, OPERATOR)
"""The roles of the localities' bootstrap clients: each caller of the matrix holds exactly one."""
REGIONAL_ROLES = (CATALOGUE, CALENDAR, REGIONAL_OPERATOR)
"""The roles of the joint office's client (registered under Yangpu): more callers, each holding exactly one."""


@dataclass(frozen=True)
class Access:
    """The access rule of one operation and a harmless request to check it with."""

    roles: tuple[str, ...] = ()
    scope: Literal["world", "shared", "locality", "public"] = "world"
    parties: Literal["both", "acceptor", "owner"] = "both"
    sees: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    values: dict[str, str] = field(default_factory=dict)
    mutates: bool = False
    authorized: tuple[int, ...] = ()
    regional: tuple[str, ...] = ()


def world(*roles: str, parties: Literal["both", "acceptor", "owner"] = "both", **kwargs: Any) -> Access:
    """A resource of one locality pair."""
    return Access(roles=roles, scope="world", parties=parties, **kwargs)


def shared(*roles: str, **kwargs: Any) -> Access:
    """Reference data every locality shares, or what the caller's own locality holds."""
    return Access(roles=roles, scope="shared", **kwargs)


def own(*roles: str, regional: tuple[str, ...] = (), **kwargs: Any) -> Access:
    """One locality's part of shared data, named by ``{target}``: its own locality's, or any with ``regional``."""
    return Access(roles=roles, scope="locality", regional=regional, **kwargs)


PUBLIC = Access(scope="public")
NONE = "YRD-ZZ-9999"
NO_EVALUATION = "00000000-0000-0000-0000-000000000000"
"""An evaluation id no world holds (issue 17)."""
REGIONAL_SUPERVISOR = "regional_supervisor"
"""Decides appeals against evaluations; held by no caller of the matrix (only `tongban clients register`)."""
"""An item code no catalogue holds: writes aimed at it are refused after the role check."""
PROBES = {(service, "GET", path): PUBLIC
          for service in ("catalogue", "routing", "authorization", "delivery", "webhooks")
          for path in ("/healthz", "/readyz", "/asyncapi.json")}
REFUSED_URL = "https://10.0.0.1/hook"
"""A private address: a subscription aimed at it is refused after the access checks (422)."""

RULES: dict[tuple[str, str, str], Access] = {
    **PROBES,
    # ---------------------------------------------------------------- catalogue: shared reference data
    ("catalogue", "GET", "/v1/items"): shared(),
    ("catalogue", "POST", "/v1/items"): shared(CATALOGUE, body=ITEM),  # exists already: 409
    ("catalogue", "GET", "/v1/items/{code}"): shared(),
    ("catalogue", "PATCH", "/v1/items/{code}"): shared(CATALOGUE, values={"code": NONE}, body={"committed_days": 3}),
    ("catalogue", "POST", "/v1/items/{code}/publish"): shared(CATALOGUE, values={"code": NONE}),
    ("catalogue", "POST", "/v1/items/{code}/withdraw"): shared(CATALOGUE, values={"code": NONE}, body={}),
    ("catalogue", "GET", "/v1/items/{code}/standards"): shared(),
    ("catalogue", "GET", "/v1/items/{code}/standards/diff"): shared(),
    # a locality's maintainer writes its own standard (an empty body: 422), not another's (403)
    ("catalogue", "PUT", "/v1/items/{code}/standards/{locality}"): own(MAINTAINER, CATALOGUE, regional=(CATALOGUE,),
                                                                        values={"locality": "{target}"}, body={}),
    ("catalogue", "DELETE", "/v1/items/{code}/standards/{locality}"): own(
        MAINTAINER, CATALOGUE, regional=(CATALOGUE,), values={"code": NONE, "locality": "{target}"}),
    ("catalogue", "GET", "/v1/items/{code}/procedures"): shared(),
    ("catalogue", "PUT", "/v1/items/{code}/procedures/{mode}"): shared(CATALOGUE, body={}),
    ("catalogue", "GET", "/v1/lists"): shared(),
    ("catalogue", "POST", "/v1/lists"): shared(CATALOGUE, body={}),
    ("catalogue", "GET", "/v1/lists/{list_id}"): shared(),
    ("catalogue", "PATCH", "/v1/lists/{list_id}"): shared(CATALOGUE, body={}),
    ("catalogue", "POST", "/v1/lists/{list_id}/versions"): shared(CATALOGUE),
    ("catalogue", "POST", "/v1/lists/{list_id}/publish"): shared(CATALOGUE),
    ("catalogue", "GET", "/v1/lists/{list_id}/diff/{other_id}"): shared(),
    ("catalogue", "GET", "/v1/windows"): shared(),
    ("catalogue", "GET", "/v1/windows/{window_id}"): shared(),
    ("catalogue", "PUT", "/v1/windows/{window_id}"): own(MAINTAINER, CATALOGUE, regional=(CATALOGUE,),
                                                         values={"window_id": "W-{target}-99"}, body={}),
    ("catalogue", "GET", "/v1/areas"): shared(),
    ("catalogue", "PUT", "/v1/areas/{key}"): shared(CATALOGUE, body={}),
    ("catalogue", "GET", "/v1/export"): shared(MAINTAINER, CATALOGUE, query={"format": "csv", "sheet": "items"}),
    ("catalogue", "POST", "/v1/import"): shared(CATALOGUE, query={"dry_run": "true"}),
    # ---------------------------------------------------------------- routing: cases of a pair
    ("routing", "POST", "/v1/cases"): shared(CLERK, body={  # an item in no list: 422 after the role check
        "item_code": NONE, "mode": "fully_online", "applicant_id": "11010519491231002X",
        "ownership": {"insured_place": ["341600"]}}),
    ("routing", "GET", "/v1/cases"): world(sees="case_id", query={"limit": "200"}),
    ("routing", "GET", "/v1/cases/{case_id}"): world(sees="case_id"),
    # the export holds the cases the caller's locality is party to, and no other's (docs/exports.md)
    ("routing", "GET", "/v1/exports/cases"): world(sees="case_id", query={"limit": "500"}),
    # withdraw without a reason: the accepting window 422, the owner 409; the case stays forwarded
    ("routing", "POST", "/v1/cases/{case_id}/transitions"): world(CLERK, body={"action": "withdraw"}),
    # the applicant and agent unmasked for a party's clerk or officer, each opening audited (docs/routing.md)
    ("routing", "GET", "/v1/cases/{case_id}/parties"): world(CLERK, OFFICER, sees="case_id"),
    ("routing", "GET", "/v1/cases/{case_id}/parties/reads"): world(),
    # the window's check of originals: the world's case is forwarded, so the acceptor's clerk gets 409
    ("routing", "POST", "/v1/cases/{case_id}/originals"): world(CLERK, parties="acceptor", body={"checks": [
        {"material": "身份证", "matches": True}]}),
    ("routing", "GET", "/v1/cases/{case_id}/originals"): world(sees="case_id"),
    # commitments in place of proofs: a case's for its parties; the owner's tasks are the caller's locality's own;
    # a finding needs the officer's role (an empty body: 422 after the role check)
    ("routing", "GET", "/v1/cases/{case_id}/commitments"): world(),
    ("routing", "GET", "/v1/commitments"): shared(),
    ("routing", "POST", "/v1/commitments/{commitment_id}/verification"): shared(
        OFFICER, values={"commitment_id": "none"}, body={}),
    # the window's one-time notice comes before acceptance: on the world's forwarded case the acceptor gets 409
    ("routing", "POST", "/v1/cases/{case_id}/notices"): world(CLERK, parties="acceptor", body={"lines": [
        {"material": "户口簿", "reason": "未提交"}]}),
    ("routing", "POST", "/v1/cases/{case_id}/notices/{number}/answers"): world(
        CLERK, parties="acceptor", values={"number": "1"}, body={"answers": [{"material": "户口簿"}]}),
    ("routing", "GET", "/v1/cases/{case_id}/notices"): world(sees="case_id"),
    ("routing", "GET", "/v1/cases/{case_id}/documents"): world(sees="case_id"),  # receipt made once, kept
    # the applicant's status query: no token; a wrong query code is the uniform 404
    ("routing", "GET", "/v1/status/{case_id}"): Access(scope="public", query={"code": "WRONGCODE"}),
    # ---------------------------------------------------------------- routing: evaluations (docs/evaluations.md)
    # the applicant's evaluation: no token; a wrong query code is the status query's uniform 404
    ("routing", "POST", "/v1/status/{case_id}/evaluations"): Access(scope="public", query={"code": "WRONGCODE"},
                                                                   body={"channel": "window", "level": "satisfied"}),
    ("routing", "GET", "/v1/evaluations"): shared(SUPERVISOR, OPERATOR, REGIONAL_SUPERVISOR, query={"limit": "200"}),
    # no world holds an evaluation: past the role check, an unknown one is 404 for every holder
    ("routing", "GET", "/v1/evaluations/{evaluation_id}"): shared(SUPERVISOR, OPERATOR, REGIONAL_SUPERVISOR,
                                                                  values={"evaluation_id": NO_EVALUATION}),
    ("routing", "POST", "/v1/evaluations/{evaluation_id}/call-backs"): shared(
        SUPERVISOR, values={"evaluation_id": NO_EVALUATION}, body={"reached": True, "note": "access matrix"}),
    ("routing", "POST", "/v1/evaluations/{evaluation_id}/outcome"): shared(
        SUPERVISOR, values={"evaluation_id": NO_EVALUATION}, body={"outcome": "access matrix"}),
    ("routing", "POST", "/v1/evaluations/{evaluation_id}/appeal"): shared(
        SUPERVISOR, values={"evaluation_id": NO_EVALUATION}, body={"reason": "access matrix"}),
    # only the joint office's regional_supervisor decides (no caller of the matrix holds it: 403 for all)
    ("routing", "POST", "/v1/evaluations/{evaluation_id}/appeal/decision"): shared(
        REGIONAL_SUPERVISOR, values={"evaluation_id": NO_EVALUATION}, body={"decision": "upheld", "reason": "x"}),
    ("routing", "GET", "/v1/statistics/evaluations"): shared(SUPERVISOR, OPERATOR, REGIONAL_SUPERVISOR),
    ("routing", "POST", "/v1/rectifications/scan"): shared(MAINTAINER, OPERATOR),  # none is open: no change
    # ---------------------------------------------------------------- routing: case files (docs/case-files.md)
    ("routing", "GET", "/v1/cases/{case_id}/files"): world(sees="case_id"),
    ("routing", "GET", "/v1/cases/{case_id}/files/downloads"): world(sees="case_id"),
    # the world's scan is in already: 200 (nothing changes) for the acceptor, 409 for the owner (not its to add)
    ("routing", "PUT", "/v1/cases/{case_id}/files/{sha256}"): world(CLERK, OFFICER),
    ("routing", "GET", "/v1/cases/{case_id}/files/{sha256}"): world(),  # the scan's bytes
    ("routing", "PUT", "/v1/cases/{case_id}/files/hold"): world(SUPERVISOR, OPERATOR, mutates=True,
                                                               body={"reason": "access matrix"}),
    ("routing", "DELETE", "/v1/cases/{case_id}/files/hold"): world(SUPERVISOR, OPERATOR),  # none stands: no change
    ("routing", "POST", "/v1/files/purge"): shared(MAINTAINER, OPERATOR),  # nothing is past its retention time
    ("routing", "POST", "/v1/files/sweep"): shared(MAINTAINER, OPERATOR),  # no orphan older than the grace time
    ("routing", "GET", "/v1/calendar/{year}"): shared(),
    ("routing", "GET", "/v1/calendar/{year}/versions"): shared(),
    ("routing", "PUT", "/v1/calendar/{year}"): shared(CALENDAR, values={"year": "2027"}, body={
        "holidays": ["2026-05-01"], "source": "access matrix"}),  # a holiday of another year: 422
    ("routing", "POST", "/v1/calendar/{year}/withdraw"): shared(CALENDAR, values={"year": "2099"}, body={
        "reason": "access matrix"}),  # no schedule of 2099 was loaded: 404
    ("routing", "POST", "/v1/deadlines/scan"): shared(MAINTAINER, OPERATOR),
    ("routing", "GET", "/v1/statistics"): shared(),
    ("routing", "PUT", "/v1/statistics/local"): shared(SUPERVISOR, OPERATOR, body={  # the caller's own figures
        "item_code": ITEM_CODE, "period": "{period}", "cases": 1, "median_working_days": 1, "on_time_rate": 1}),
    # ---------------------------------------------------------------- delivery: waybills of a pair
    ("delivery", "GET", "/v1/waybills"): world(sees="number", query={"case_id": "{case_id}"}),
    ("delivery", "GET", "/v1/waybills/{number}"): world(sees="number"),
    ("delivery", "GET", "/v1/waybills/{number}/events"): world(),
    # a materials waybill is never readdressed: 409 for its parties
    ("delivery", "PUT", "/v1/waybills/{number}/receiver"): world(CLERK, OFFICER, body={"deliver_to": "pickup_window"}),
    ("delivery", "POST", "/v1/waybills/{number}/receipt"): world(OFFICER, parties="owner", mutates=True,
                                                                 body={"material_hashes": ["cd" * 32]}),
    ("delivery", "GET", "/v1/delivery-targets"): shared(),
    ("delivery", "POST", "/v1/carrier/events"): shared(CARRIER, body={"events": []}),
    # POST /v1/dev/carrier/simulate exists only in the embedded system (tests/integration/test_production_settings.py)
    # ---------------------------------------------------------------- authorization
    ("authorization", "GET", "/.well-known/jwks.json"): PUBLIC,
    ("authorization", "POST", "/oauth/token"): PUBLIC,
    ("authorization", "GET", "/v1/clients"): world(MAINTAINER, parties="acceptor", sees="client_id"),
    ("authorization", "POST", "/v1/clients"): world(MAINTAINER, parties="acceptor", mutates=True, body={
        "locality": "{locality}", "name": "intruder", "roles": ["window_clerk"]}),
    ("authorization", "POST", "/v1/clients/{client_id}/revoke"): world(MAINTAINER, parties="acceptor", mutates=True),
    ("authorization", "GET", "/v1/keys"): shared(),  # public keys, as in the JWKS
    ("authorization", "POST", "/v1/localities/{locality}/keys/rotate"): world(MAINTAINER, parties="acceptor",
                                                                              mutates=True),
    ("authorization", "POST", "/v1/keys/{kid}/revoke"): world(MAINTAINER, parties="acceptor"),  # active: 409
    ("authorization", "GET", "/v1/audit/verify"): shared(SUPERVISOR, MAINTAINER, OPERATOR),
    ("authorization", "GET", "/v1/audit/entries"): shared(SUPERVISOR, MAINTAINER, OPERATOR, query={"limit": "500"}),
    ("authorization", "POST", "/v1/audit/checkpoints"): shared(SUPERVISOR, MAINTAINER),
    ("authorization", "GET", "/v1/agreements"): world(sees="agreement_id"),
    ("authorization", "POST", "/v1/agreements"): world(MAINTAINER, SUPERVISOR, body={  # ends before it starts: 422
        "title": "intrusion", "text": "x", "parties": ["{acceptor}", "{owner}"], "areas": ["social_security"],
        "permissions": [{"acceptor": "{acceptor}", "owner": "{owner}", "modes": ["fully_online"]}],
        "valid_from": "2030-01-01T00:00:00+00:00", "valid_until": "2029-01-01T00:00:00+00:00"}),
    ("authorization", "GET", "/v1/agreements/{agreement_id}"): world(sees="agreement_id"),
    ("authorization", "POST", "/v1/agreements/{agreement_id}/signatures"): world(MAINTAINER, SUPERVISOR, body={
        "canonical_sha256": "0" * 64}),  # active already: 409
    ("authorization", "POST", "/v1/agreements/{agreement_id}/acts"): world(MAINTAINER, SUPERVISOR, body={
        "kind": "resume", "reason": "access matrix"}),  # not suspended: 409
    ("authorization", "GET", "/v1/delegations/check"): world(query={
        "acceptor": "{acceptor}", "owner": "{owner}", "item": ITEM_CODE, "mode": "fully_online",
        "area": "social_security"}),
    ("authorization", "POST", "/v1/attestations"): shared(CLERK, body={  # an owner no registry knows: 422
        "case_id": "c-1", "item_code": ITEM_CODE, "mode": "fully_online", "owners": ["999999"], "materials": [],
        "clerk": "clerk", "accepted_at": "2026-01-05T09:00:00+08:00"}),
    ("authorization", "POST", "/v1/attestations/verify"): shared(body={"jws": "aaaaa.bbbbb.ccccc"}),
    ("authorization", "GET", "/v1/attestations/{attestation_id}"): world(sees="attestation_id"),
    # licences: issued by the caller's locality's officer (an unknown holder locality: 422 after the role check),
    # verified and read by any party (holder masked), revoked by the issuing locality's officer (none here: 404)
    ("authorization", "POST", "/v1/licences"): shared(OFFICER, body={
        "type_code": "YYZZ", "type_name": "营业执照", "number": "MATRIX-1", "holder_kind": "person",
        "holder_name": "王小明", "holder_id": "11010519491231002X", "issuing_authority": "市场监督管理局",
        "valid_from": "2026-01-01", "file_sha256": "00" * 32, "holder_localities": ["999999"]}),
    ("authorization", "POST", "/v1/licences/verify"): shared(body={"issuing_locality": "341600",
                                                                   "number": "MATRIX-NONE"}),
    ("authorization", "GET", "/v1/licences/{licence_id}"): shared(
        values={"licence_id": "00000000-0000-4000-8000-000000000000"}),
    ("authorization", "POST", "/v1/licences/{licence_id}/revocation"): shared(
        OFFICER, values={"licence_id": "00000000-0000-4000-8000-000000000000"}, body={"reason": "matrix"}),
    # only the requesting locality records a consent; requester and holder the same: 422 after that check
    ("authorization", "POST", "/v1/consents"): own(CLERK, body={
        "subject_ref": "applicant-matrix", "item_code": ITEM_CODE, "data_kind": "social_security_records",
        "requester": "{target}", "holder": "{target}", "purpose": "matrix",
        "expires_at": "2099-01-01T00:00:00+00:00"}),
    ("authorization", "POST", "/v1/consents/{consent_id}/revoke"): world(mutates=True),
    ("authorization", "GET", "/v1/consents/check"): world(parties="owner", sees="consent_id", query={
        "subject_ref": "{subject_ref}", "item_code": ITEM_CODE, "data_kind": "social_security_records",
        "holder": "{acceptor}", "purpose": "inheritance"}),
    # ---------------------------------------------------------------- webhooks: the acceptor's subscription
    ("webhooks", "POST", "/v1/subscriptions"): shared(MAINTAINER, OPERATOR, body={
        "url": REFUSED_URL, "event_types": ["*"]}),
    ("webhooks", "GET", "/v1/subscriptions"): world(parties="acceptor", sees="subscription_id"),
    ("webhooks", "GET", "/v1/subscriptions/{subscription_id}"): world(parties="acceptor", sees="subscription_id"),
    ("webhooks", "PATCH", "/v1/subscriptions/{subscription_id}"): world(MAINTAINER, OPERATOR, parties="acceptor",
                                                                        body={"url": REFUSED_URL}),
    ("webhooks", "DELETE", "/v1/subscriptions/{subscription_id}"): world(MAINTAINER, OPERATOR, parties="acceptor",
                                                                         mutates=True),
    ("webhooks", "POST", "/v1/subscriptions/{subscription_id}/secret"): world(
        MAINTAINER, OPERATOR, parties="acceptor", mutates=True),
    ("webhooks", "POST", "/v1/subscriptions/{subscription_id}/resume"): world(  # not failing: 409
        OPERATOR, parties="acceptor"),
    ("webhooks", "GET", "/v1/subscriptions/{subscription_id}/deliveries"): world(parties="acceptor"),
    ("webhooks", "POST", "/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver"): world(
        MAINTAINER, OPERATOR, parties="acceptor", mutates=True),
    ("webhooks", "POST", "/v1/subscriptions/{subscription_id}/replay"): world(  # nothing after 2999: queues 0
        MAINTAINER, OPERATOR, parties="acceptor", body={"since": "2999-01-01T00:00:00+00:00"}),
    ("webhooks", "GET", "/v1/events"): shared(),
    ("webhooks", "GET", "/v1/webhook-health"): shared(),
}

DEFAULT_VALUES = {"code": ITEM_CODE, "year": "2026", "locality": Y, "mode": "fully_online",
                  "list_id": "yrd-none.v1", "other_id": "yrd-none.v2", "window_id": "W-310110-99",
                  "key": "social_security", "delivery_id": "dlv_none"}
"""Path values of shared operations that name none of their own. ``{period}`` is one per role, so that two
callers of one locality do not write the same figures at the same moment (a race of its own, not access)."""
