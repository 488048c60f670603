"""The authorization service's REST API: one router per resource, their models in ``schemas``."""

from fastapi import APIRouter

from services.authorization.api import credentials, licences, trust

routers: list[APIRouter] = [credentials.public, credentials.clients, credentials.keys, credentials.audit,
                            trust.agreements, trust.delegations, trust.attestations, trust.consents,
                            licences.licences]
