"""Routing's REST API: one router per resource (cases, calendar, notices, documents, the public status
query, case files, evaluations), their models in ``schemas``."""

from fastapi import APIRouter

from services.routing.api import cases, commitments, documents, evaluations, exports, files, notices, status

routers: list[APIRouter] = [*cases.routers, notices.notices, documents.documents, status.public_status,
                            *files.routers, exports.exports, *evaluations.routers, *commitments.routers]
