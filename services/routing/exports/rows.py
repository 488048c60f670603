"""The rows of a case export, in the field set that provincial platforms exchange for cases. Pure: no I/O.

One row per case, built from the case, its timeline and the item's national codes. The codes that the
exchange uses (acceptance status, result code BJJGDM, applicant type, channel) are data
(``services/routing/data/exchange-codes.json``, with their sources), read once by :func:`load_codes`;
the field names (SBLSH, SXBM, ...) are the exchange's (docs/exports.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from shared.clock import CHINA

CODES_FILE = Path(__file__).resolve().parent.parent / "data" / "exchange-codes.json"

FIELDS: tuple[tuple[str, str, str], ...] = (
    ("SBLSH", "申办流水号", "application serial number"),
    ("SXBM", "事项编码", "item code (the owner's implementation code, else Tongban's)"),
    ("JBMLBM", "基本目录编码", "national basic-catalogue code"),
    ("TBSXBM", "通办事项编码", "Tongban item code"),
    ("SXMC", "事项名称", "item name"),
    ("SQSJ", "申请时间", "application time"),
    ("SQRLX", "申请人类型", "applicant type"),
    ("SBQD", "申办渠道", "channel"),
    ("XZQHDM", "受理地行政区划代码", "division code of the accepting locality"),
    ("BLDXZQHDM", "办理地行政区划代码", "division codes of the owners"),
    ("YSLZT", "预受理状态", "pre-acceptance status"),
    ("YSLSJ", "预受理时间", "pre-acceptance time"),
    ("SLZT", "受理状态", "acceptance status"),
    ("SLSJ", "受理时间", "acceptance time"),
    ("BYSLYY", "不予受理原因", "refusal reason"),
    ("SLBH", "受理编号", "acceptance number"),
    ("BZGZSJ", "补正告知时间", "supplement notice time"),
    ("BZYY", "补正原因", "supplement reason"),
    ("BZCLQD", "补正材料清单", "supplement list"),
    ("BZSLSJ", "补正受理时间", "supplement completion time"),
    ("TBCXKSSJ", "特别程序开始时间", "special procedure start"),
    ("TBCXYY", "特别程序原因", "special procedure reason"),
    ("TBCXJSSJ", "特别程序结束时间", "special procedure end"),
    ("TBCXJG", "特别程序结果", "special procedure result"),
    ("BJSJ", "办结时间", "completion time"),
    ("BJJGDM", "办结结果代码", "result code"),
    ("BJJGMS", "办结结果描述", "result description"),
    ("LQSJ", "领取时间", "collection time"),
    ("TBZT", "通办状态", "Tongban status"),
)
"""Each field: the exchange's name, its Chinese and its English label (the CSV header lines)."""
FIELD_NAMES: tuple[str, ...] = tuple(f[0] for f in FIELDS)
SUPPLEMENT_FIELDS = ("BZGZSJ", "BZYY", "BZCLQD", "BZSLSJ")
PAUSE_FIELDS = ("TBCXKSSJ", "TBCXYY", "TBCXJSSJ", "TBCXJG")
SEPARATOR = " | "
"""Between the supplements (or pauses) of one case in a CSV cell; the JSON form keeps them as a list."""
DECISIONS = ("approved", "rejected", "withdrawn")


@dataclass(frozen=True)
class Step:
    """One step of a case's timeline, as the export reads it."""

    action: str
    to_status: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class ExportCase:
    """What the export knows of one case: the case, its item's codes, its supplement notices, its steps."""

    id: str
    item_code: str
    item_name: str
    mode: str
    accepting_locality: str
    owners: tuple[str, ...]
    applicant_kind: str
    status: str
    attestation_id: str | None
    submitted_at: datetime
    steps: tuple[Step, ...]
    notices: tuple[dict[str, Any], ...] = ()
    national_code: str = ""
    implementation_codes: dict[str, str] = field(default_factory=dict)


@cache
def load_codes(path: Path = CODES_FILE) -> dict[str, Any]:
    """The exchange's codes (data, with their sources)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def moment(value: datetime | str | None) -> str:
    """A time as the export writes it: RFC 3339 in China time (naive values taken as UTC); "" for none."""
    if value is None or value == "":
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA).isoformat()


def _first(steps: tuple[Step, ...], *actions: str) -> Step | None:
    return next((s for s in steps if s.action in actions), None)


def supplements(case: ExportCase) -> list[dict[str, str]]:
    """The owners' supplement requests (补正) of the case, in order, each with its list and completion."""
    out = []
    for notice in case.notices:
        if notice.get("kind") != "supplement":
            continue
        lines = notice.get("lines") or []
        out.append({
            "BZGZSJ": moment(notice.get("issued_at")),
            "BZYY": "；".join(f"{x['material']}：{x['reason']}" for x in lines),
            "BZCLQD": "、".join(str(x["material"]) for x in lines),
            "BZSLSJ": moment(notice.get("answered_at")),
        })
    return out


def _decision(case: ExportCase, codes: dict[str, Any]) -> tuple[Step | None, str, str]:
    """The step that decided the case (办结), its result code and description."""
    by_decision = codes["result_codes"]["by_decision"]
    labels = codes["result_codes"]["codes"]
    step = next((s for s in case.steps if s.to_status in DECISIONS), None)
    if step is None:
        return None, "", ""
    if step.to_status == "withdrawn":
        accepted = _first(case.steps, "accept") is not None
        code = str(by_decision["withdraw_accepted" if accepted else "withdraw_submitted"])
    else:
        code = str(by_decision["approve" if step.to_status == "approved" else "reject"])
    description = labels[code]["zh"] + (f"：{step.reason}" if step.reason else "")
    return step, code, description


def build_row(case: ExportCase, codes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The case as one exchange row: a string per field, and lists for its supplements (BZ) and special
    procedures (TBCX: none in Tongban; its clock stops only for supplements)."""
    codes = codes or load_codes()
    accept = _first(case.steps, "accept")
    decision, result_code, result_description = _decision(case, codes)
    acceptance = codes["acceptance_status"]["acceptance"]
    refused = accept is None and decision is not None and decision.to_status == "withdrawn"
    collected = _first(case.steps, "deliver_result", "hand_over_result")
    owner = case.owners[0] if case.owners else ""
    implementation = case.implementation_codes.get(owner, "")
    bz = supplements(case)
    row: dict[str, Any] = {
        "SBLSH": case.id,
        "SXBM": implementation or case.item_code,
        "JBMLBM": case.national_code,
        "TBSXBM": case.item_code,
        "SXMC": case.item_name,
        "SQSJ": moment(case.submitted_at),
        "SQRLX": str(codes["applicant_types"].get(case.applicant_kind, "")),
        "SBQD": str(codes["channels"].get(case.mode, "")),
        "XZQHDM": case.accepting_locality,
        "BLDXZQHDM": ";".join(case.owners),
        "YSLZT": str(codes["acceptance_status"]["pre_acceptance"]["received"]),
        "YSLSJ": moment(case.submitted_at),
        "SLZT": str(acceptance["accepted" if accept else "not_accepted" if refused else "pending"]),
        "SLSJ": moment(accept.at) if accept else "",
        "BYSLYY": decision.reason if refused and decision else "",
        "SLBH": (case.attestation_id or "") if accept else "",
        "BJSJ": moment(decision.at) if decision else "",
        "BJJGDM": result_code,
        "BJJGMS": result_description,
        "LQSJ": moment(collected.at) if collected else "",
        "TBZT": case.status,
        "BZ": bz,
        "TBCX": [],
    }
    for name in SUPPLEMENT_FIELDS:
        row[name] = SEPARATOR.join(s[name] for s in bz)
    for name in PAUSE_FIELDS:
        row[name] = ""
    return row


def csv_cells(row: dict[str, Any]) -> list[str]:
    """The row's cells in the order of :data:`FIELDS` (supplements joined by :data:`SEPARATOR`)."""
    return [str(row[name]) for name in FIELD_NAMES]


def header(language: str) -> list[str]:
    """The CSV header line: the exchange's names (``code``), or the Chinese (``zh``) or English (``en``) labels."""
    index = {"code": 0, "zh": 1, "en": 2}[language]
    return [f[index] for f in FIELDS]
