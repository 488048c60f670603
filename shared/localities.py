"""The locality registry: who takes part in cross-provincial handling, and their topics.

The four localities of the first cooperation agreement are built in (GB/T 2260 codes). More are
added by configuration alone: a JSON file named by ``TONGBAN_LOCALITIES_FILE`` holding a list of
objects with the fields of :class:`Locality`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.settings import Settings

_CODE = re.compile(r"^[1-8]\d{5}$")


class Locality(BaseModel):
    """One locality: a GB/T 2260 administrative division taking part in the cooperation."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=_CODE.pattern, description="GB/T 2260 six-digit division code.")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    province_zh: str = Field(min_length=1)
    province_en: str = Field(min_length=1)


BUILT_IN: tuple[Locality, ...] = (
    Locality(
        code="310110",
        name_zh="上海市杨浦区",
        name_en="Yangpu District, Shanghai",
        province_zh="上海市",
        province_en="Shanghai",
    ),
    Locality(
        code="320505",
        name_zh="苏州高新区（虎丘区）",
        name_en="Suzhou High-tech District (Huqiu)",
        province_zh="江苏省",
        province_en="Jiangsu",
    ),
    Locality(
        code="331000",
        name_zh="浙江省台州市",
        name_en="Taizhou, Zhejiang",
        province_zh="浙江省",
        province_en="Zhejiang",
    ),
    Locality(
        code="341600",
        name_zh="安徽省亳州市",
        name_en="Bozhou, Anhui",
        province_zh="安徽省",
        province_en="Anhui",
    ),
)


class UnknownLocality(KeyError):
    """A locality code that is not in the registry."""


class LocalityRegistry:
    """The localities and the names of their topics."""

    def __init__(self, localities: Iterable[Locality], topic_prefix: str = "tongban") -> None:
        self._by_code: dict[str, Locality] = {}
        for locality in localities:
            if locality.code in self._by_code:
                raise ValueError(f"locality {locality.code} is registered twice")
            self._by_code[locality.code] = locality
        self.topic_prefix = topic_prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalityRegistry:
        """The built-in localities plus those of ``settings.localities_file``."""
        extra = load_localities_file(settings.localities_file) if settings.localities_file else []
        return cls([*BUILT_IN, *extra], topic_prefix=settings.topic_prefix)

    def __iter__(self) -> Iterator[Locality]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def codes(self) -> list[str]:
        """Every locality code, in registration order."""
        return list(self._by_code)

    def get(self, code: str) -> Locality:
        """The locality of ``code``; :class:`UnknownLocality` when there is none."""
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownLocality(code) from None

    def topic(self, code: str) -> str:
        """The event topic of a locality, e.g. ``tongban.locality.310110``."""
        self.get(code)
        return f"{self.topic_prefix}.locality.{code}"

    def dead_letter_topic(self, code: str) -> str:
        """The dead-letter topic beside a locality's topic."""
        return self.topic(code) + ".dlt"

    def dead_letter_topic_of(self, topic: str) -> str:
        """The dead-letter topic of a locality topic name."""
        return topic + ".dlt"

    @property
    def topics(self) -> list[str]:
        """Every locality topic."""
        return [self.topic(code) for code in self._by_code]

    @property
    def all_topics(self) -> list[str]:
        """Every locality topic and its dead-letter topic."""
        return [t for code in self._by_code for t in (self.topic(code), self.dead_letter_topic(code))]


def load_localities_file(path: Path) -> list[Locality]:
    """Read extra localities from a JSON file (a list of locality objects)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read localities file {path}: {exc}") from exc
    if not isinstance(raw, list):
        raise ValueError(f"localities file {path} must hold a JSON list")
    try:
        return [Locality.model_validate(item) for item in raw]
    except ValidationError as exc:
        raise ValueError(f"localities file {path}: {exc}") from exc
