"""The four delegated rights of authorization trust, as the API names them (issue 16).

收件受理权 ``receive_accept``, 一次性告知权 ``one_time_notice``, 原件核验权 ``check_originals``,
审批结果送达权 ``deliver_result``: an agreement's permission names which the acceptor holds for the owner,
for all the items and areas the agreement covers or for some of them. A permission drafted without
``rights`` (before they were named) delegates all four.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RightName = Literal["receive_accept", "one_time_notice", "check_originals", "deliver_result"]


class RightBody(BaseModel):
    """One delegated right, for the agreement's items and areas named here (none: all it covers)."""

    model_config = ConfigDict(extra="forbid")

    right: RightName = Field(description="receive_accept 收件受理权, one_time_notice 一次性告知权, "
                                         "check_originals 原件核验权, deliver_result 审批结果送达权.")
    items: list[str] = Field(default_factory=list, max_length=10_000)
    areas: list[str] = Field(default_factory=list, max_length=100)
