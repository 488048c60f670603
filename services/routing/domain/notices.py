"""The one-time notice (一次性告知) and the supplement that answers it. Pure: no I/O.

When the window finds materials missing (its own notice, under the delegated right 一次性告知权), or an
owner asks for a supplement, one notice lists every missing or defective material with the reason,
complete in one go. The supplement answers it line by line: each line once, with the materials it
adds; the case's materials list then shows which supplement added each (``Material.supplement``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.routing.domain.cases import CaseRuleBroken, Material
from services.routing.domain.materials import InvalidMaterial, clean_name

KINDS = ("window", "supplement")
"""``window``: the accepting window's notice before acceptance; ``supplement``: an owner's request."""


class NoticeRuleBroken(CaseRuleBroken):
    """A notice without its list, or an answer that does not answer it line by line."""

    status, slug, title = 422, "one-time-notice", "One-time notice incomplete"


@dataclass(frozen=True)
class NoticeLine:
    """One missing or defective material and why."""

    material: str
    reason: str


@dataclass(frozen=True)
class Answer:
    """How the applicant answered one line: what they say, and the materials it adds (by name)."""

    material: str
    answer: str
    added: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notice:
    """One one-time notice of a case, and its answer once supplemented."""

    number: int
    kind: str
    by_locality: str
    issued_at: str
    lines: tuple[NoticeLine, ...]
    answers: tuple[Answer, ...] | None = None
    answered_at: str | None = None
    by: dict[str, str] | None = None

    @property
    def open(self) -> bool:
        """Whether it waits for its answer."""
        return self.answers is None

    def as_dict(self) -> dict[str, Any]:
        """As stored and answered."""
        return {"number": self.number, "kind": self.kind, "by_locality": self.by_locality,
                "issued_at": self.issued_at, "by": self.by,
                "lines": [{"material": x.material, "reason": x.reason} for x in self.lines],
                "answers": None if self.answers is None else [
                    {"material": a.material, "answer": a.answer, "added": list(a.added)} for a in self.answers],
                "answered_at": self.answered_at}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Notice:
        """A notice from its stored form."""
        answers = data.get("answers")
        return cls(int(data["number"]), str(data["kind"]), str(data["by_locality"]), str(data["issued_at"]),
                   tuple(NoticeLine(x["material"], x["reason"]) for x in data["lines"]),
                   None if answers is None else tuple(Answer(a["material"], a["answer"], tuple(a["added"]))
                                                      for a in answers),
                   data.get("answered_at"), data.get("by"))


def _text(value: str, what: str) -> str:
    try:
        return clean_name(value, what)
    except InvalidMaterial as exc:
        raise NoticeRuleBroken(str(exc)) from exc


def issue(notices: list[Notice], kind: str, by_locality: str, lines: list[dict[str, Any]], at: str,
          by: dict[str, str] | None = None) -> Notice:
    """A new notice; :class:`NoticeRuleBroken` without lines, with a line without its reason, or while
    another notice of the case still waits for its answer (one notice, complete in one go)."""
    if not lines:
        raise NoticeRuleBroken("a one-time notice lists every missing or defective material with the reason "
                               "(notice: [{material, reason}])")
    if any(n.open for n in notices):
        raise NoticeRuleBroken("a one-time notice of this case still waits for its answer", open=[
            n.number for n in notices if n.open])
    cleaned = tuple(NoticeLine(_text(str(x["material"]), "a notice line's material"),
                               _text(str(x.get("reason", "")), f"the reason for {x['material']!r}")) for x in lines)
    names = [x.material for x in cleaned]
    if len(set(names)) != len(names):
        raise NoticeRuleBroken("a material is listed twice in the notice")
    return Notice(len(notices) + 1, kind, by_locality, at, cleaned, by=by)


def answer(notice: Notice, answers: list[dict[str, Any]], added: list[Material], at: str) -> Notice:
    """The notice answered line by line; every line exactly once, each added material named by one line."""
    if not notice.open:
        raise NoticeRuleBroken(f"notice {notice.number} was answered already")
    given = [_text(str(a["material"]), "an answer's material") for a in answers]
    lines = [x.material for x in notice.lines]
    unanswered = [m for m in lines if m not in given]
    stray = [m for m in given if m not in lines]
    if unanswered or stray or len(set(given)) != len(given):
        raise NoticeRuleBroken(
            f"the supplement answers notice {notice.number} line by line: "
            + "; ".join(filter(None, [f"unanswered {', '.join(unanswered)}" if unanswered else "",
                                      f"not in the notice {', '.join(stray)}" if stray else "",
                                      "a line answered twice" if len(set(given)) != len(given) else ""])),
            unanswered=unanswered, not_in_notice=stray)
    names = {m.name for m in added}
    return Notice(notice.number, notice.kind, notice.by_locality, notice.issued_at, notice.lines, tuple(
        Answer(m, _text(str(a.get("answer") or "已补正"), "an answer"),
               tuple(n for n in (clean_name(str(x["name"])) for x in a.get("added") or []) if n in names))
        for m, a in zip(given, answers, strict=True)), at, notice.by)
