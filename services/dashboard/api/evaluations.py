"""The evaluations panel (好差评): per locality responsible, the share of each level and the rectifications
open, overdue, closed on time or late and annulled, from routing's evaluation events."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.dashboard.api.common import Ctx, Operator
from services.dashboard.store_evaluations import evaluation_figures

router = APIRouter(prefix="/api", tags=["dashboard"])


class EvaluationLevels(BaseModel):
    """A count, or a share, per level (非常满意 … 非常不满意)."""

    very_satisfied: float | None
    satisfied: float | None
    basically_satisfied: float | None
    dissatisfied: float | None
    very_dissatisfied: float | None


class RectificationStates(BaseModel):
    """Rectifications of poor evaluations by state."""

    open: int
    overdue: int
    closed_on_time: int
    closed_late: int
    annulled: int = Field(description="Ended by an appeal a regional supervisor upheld.")


class LocalityEvaluations(BaseModel):
    """One locality's evaluations (it answers for them)."""

    locality: str
    evaluations: int = Field(description="Standing evaluations (annulled ones left out).")
    levels: EvaluationLevels
    shares: EvaluationLevels = Field(description="Share of each level among the standing ones (None: none yet).")
    rectifications: RectificationStates
    on_time_rate: float | None = Field(description="Closed on time among those closed (None: none closed).")


class EvaluationsPanel(BaseModel):
    """The evaluations of the localities the operator sees."""

    localities: list[LocalityEvaluations]


@router.get("/panels/evaluations", summary="Applicants' evaluations per locality: levels and rectifications")
async def evaluations(viewer: Operator, ctx: Ctx) -> EvaluationsPanel:
    async with ctx.sessionmaker() as session:
        rows = await evaluation_figures(session, viewer, ctx.localities.codes)
    return EvaluationsPanel.model_validate({"localities": rows})


routers = [router]
