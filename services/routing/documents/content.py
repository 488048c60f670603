"""What the applicant's documents say: the receipt notice (收件告知单) and the one-time notice (一次性告知书).

The receipt names the case number and its query code, the item (code and Chinese name), the accepting
window and the clerk, the owning localities, the committed time limit in working days and the due date,
the materials received, and the QR code of the status-query link. The one-time notice lists every missing
or defective material with the reason. The applicant appears masked, as on every answer.
"""

from __future__ import annotations

from typing import Any

from services.routing.documents.render import Document
from services.routing.domain.standard import FORM_ZH
from services.routing.store import CaseRow, KnownItemRow, TimelineRow
from shared.localities import LocalityRegistry, UnknownLocality

MODE_ZH = {"fully_online": "全程网办", "accepted_here_handled_there": "异地代收代办（收受分离）",
           "joint_handling": "多地联办"}


def _place(localities: LocalityRegistry, code: str) -> str:
    try:
        return f"{localities.get(code).name_zh}（{code}）"
    except UnknownLocality:
        return code


def _item(row: CaseRow, item: KnownItemRow | None) -> str:
    return f"{row.item_code} {item.name_zh}" if item and item.name_zh else row.item_code


def _clerk(steps: list[TimelineRow], action: str, row: CaseRow) -> str:
    step = next((s for s in steps if s.action == action), None)
    clerk = (step.detail or {}).get("clerk", {}) if step else {}
    if clerk.get("name"):
        return f"{clerk['name']}（工号 {clerk.get('id', '')}）"
    return str(clerk.get("client_id") or (step.by_client if step else row.accepting_locality))


def receipt_document(row: CaseRow, steps: list[TimelineRow], item: KnownItemRow | None,
                     localities: LocalityRegistry, code: str, link: str) -> Document:
    """The receipt notice of an accepted case."""
    applicant = (row.parties_masked or {}).get("applicant") or {}
    due = row.due_on.isoformat() if row.due_on else "待定"
    materials: list[tuple[str, ...]] = [(str(i), str(m["name"]), FORM_ZH.get(m["form"], m["form"]),
                                          str(m.get("count", 1)))
                 for i, m in enumerate(row.materials, 1)]
    return Document(
        title="收件告知单", subtitle="长三角跨省通办专窗 · Receipt notice",
        fields=[("案件编号：", row.id), ("查询码：", code), ("办理事项：", _item(row, item)),
                ("办理方式：", MODE_ZH.get(row.mode, row.mode)),
                ("受理窗口：", f"{_place(localities, row.accepting_locality)}跨省通办专窗"),
                ("受理人员：", _clerk(steps, "accept", row)),
                ("办理地：", "、".join(_place(localities, o) for o in row.owners)),
                ("申请人：", f"{applicant.get('name', '')} {row.applicant_masked}".strip()),
                ("受理日期：", row.accepted_on.isoformat() if row.accepted_on else ""),
                ("承诺时限：", f"{row.committed_days} 个工作日"),
                ("办结期限：", f"{due}（按法定工作日计算，补正期间暂停）")],
        table_head=("序号", "收取材料", "形式", "份数"), table=materials,
        closing="您的申请材料已收取。请凭案件编号和查询码查询办理进度；如需补正，窗口将一次性告知。",
        qr_link=link, qr_caption="扫码查询办理进度（案件编号 + 查询码）")


def notice_document(row: CaseRow, notice: dict[str, Any], item: KnownItemRow | None,
                    localities: LocalityRegistry, code: str, link: str) -> Document:
    """A one-time notice: every missing or defective material with the reason."""
    by = "受理窗口" if notice["kind"] == "window" else "办理地"
    lines: list[tuple[str, ...]] = [(str(i), str(x["material"]), str(x["reason"]))
                                    for i, x in enumerate(notice["lines"], 1)]
    return Document(
        title="一次性告知书", subtitle=f"第 {notice['number']} 号 · One-time notice",
        fields=[("案件编号：", row.id), ("查询码：", code), ("办理事项：", _item(row, item)),
                ("受理窗口：", f"{_place(localities, row.accepting_locality)}跨省通办专窗"),
                (f"告知单位（{by}）：", _place(localities, str(notice["by_locality"]))),
                ("告知时间：", str(notice["issued_at"])[:19].replace("T", " "))],
        table_head=("序号", "需补正材料", "原因"), table=lines,
        closing="请按上述清单一次性补齐材料后到受理窗口提交；补正期间办理时限暂停计算。",
        qr_link=link, qr_caption="扫码查询办理进度（案件编号 + 查询码）")
