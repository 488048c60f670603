"""The authorization service's pure rules: credentials, keys, audit chain, agreements, consents."""

from services.authorization.domain.agreements import (
    Act,
    Agreement,
    AgreementError,
    AgreementStatus,
    Decision,
    Permission,
    Signature,
    canonical_form,
    canonical_sha256,
    decide,
)
from services.authorization.domain.consents import Consent, ConsentDecision, check_consent, may_record
from services.authorization.domain.credentials import (
    GENESIS,
    ISSUER,
    AuditEntry,
    Client,
    KeyStatus,
    Role,
    SigningKey,
    audit_hash,
    first_broken_link,
    hash_secret,
    new_client_id,
    new_client_secret,
    new_kid,
    verify_secret,
    verify_secret_or_dummy,
)

__all__ = [
    "GENESIS", "ISSUER", "Act", "Agreement", "AgreementError", "AgreementStatus", "AuditEntry", "Client",
    "Consent", "ConsentDecision", "Decision", "KeyStatus", "Permission", "Role", "Signature", "SigningKey",
    "audit_hash", "canonical_form", "canonical_sha256", "check_consent", "decide", "first_broken_link",
    "hash_secret", "may_record", "new_client_id", "new_client_secret", "new_kid", "verify_secret",
    "verify_secret_or_dummy",
]
