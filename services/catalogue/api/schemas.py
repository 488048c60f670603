"""Request and response bodies of the catalogue's REST API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from services.catalogue.domain.items import AREA_KEY, ITEM_CODE, Item
from services.catalogue.domain.lists import LIST_SLUG, CatalogueList
from services.catalogue.domain.standards import (
    MATERIAL_FORMS,
    CommitmentRule,
    Material,
    Procedure,
    ProcedureStep,
    Standard,
    Window,
)
from shared.api_types import Timestamp
from shared.contracts.catalogue import HandlingMode, OwnershipRule

ItemStatusName = Literal["draft", "published", "withdrawn"]
ListStatusName = Literal["draft", "published", "superseded"]
MaterialFormName = Literal["original", "copy", "original_and_copy"]
StepRole = Literal["applicant", "window_clerk", "department_officer", "carrier"]
assert set(MATERIAL_FORMS) == {"original", "copy", "original_and_copy"}


class Strict(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- items


class LicenceType(Strict):
    """A type of electronic licence (证照类型): its code and name."""

    code: str = Field(pattern=r"^[0-9A-Za-z\-.]{1,32}$", examples=["SPJY"])
    name: str = Field(min_length=1, max_length=200, examples=["食品经营许可证"])


class ItemDraft(Strict):
    """A new item, created as a draft."""

    code: str = Field(pattern=ITEM_CODE.pattern, examples=["YRD-SB-0101"])
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=300)
    area: str = Field(pattern=AREA_KEY.pattern, examples=["social_security"])
    modes: list[HandlingMode] = Field(min_length=1)
    ownership_rule: OwnershipRule
    committed_days: int = Field(ge=0, le=365, description="Until the item has business standards.")
    keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=30)
    illustrative: StrictBool = False
    national_code: str = Field("", max_length=24, pattern=r"^([0-9A-Z]{12,24})?$", description=(
        "National basic-catalogue code (基本目录, GB/T 39554.1-2020); empty while unknown."))
    licence_types: list[LicenceType] = Field(default_factory=list, max_length=20, description=(
        "The electronic licences (电子证照) the item's result may be (docs/licences.md)."))


class ItemPatch(Strict):
    """Changes to an item; absent fields stay as they are."""

    name_zh: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, min_length=1, max_length=300)
    area: str | None = Field(None, pattern=AREA_KEY.pattern)
    modes: list[HandlingMode] | None = Field(None, min_length=1)
    ownership_rule: OwnershipRule | None = None
    committed_days: int | None = Field(None, ge=0, le=365)
    keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(None, max_length=30)
    illustrative: StrictBool | None = None
    national_code: str | None = Field(None, max_length=24, pattern=r"^([0-9A-Z]{12,24})?$", description=(
        "National basic-catalogue code (基本目录); \"\" clears it."))
    licence_types: list[LicenceType] | None = Field(None, max_length=20)


class Withdrawal(Strict):
    """Why an item is withdrawn."""

    reason: str = Field(default="", max_length=500)


class ItemView(BaseModel):
    """An item as the catalogue holds it."""

    code: str
    name_zh: str
    name_en: str
    area: str
    modes: list[HandlingMode]
    ownership_rule: OwnershipRule
    committed_days: int = Field(description="The longest committed time limit of the item's localities.")
    status: ItemStatusName
    revision: int
    keywords: list[str]
    illustrative: bool
    national_code: str = Field(description="National basic-catalogue code (基本目录); empty while unknown.")
    licence_types: list[LicenceType] = Field(default_factory=list)

    @classmethod
    def of(cls, item: Item) -> ItemView:
        """The view of a domain item."""
        return cls(
            code=item.code, name_zh=item.name_zh, name_en=item.name_en, area=item.area,
            modes=list(item.modes),  # type: ignore[arg-type]
            ownership_rule=item.ownership_rule,  # type: ignore[arg-type]
            committed_days=item.committed_days, status=item.status, revision=item.revision,
            keywords=list(item.keywords), illustrative=item.illustrative, national_code=item.national_code,
            licence_types=[LicenceType(code=c, name=n) for c, n in item.licence_types],
        )


class ItemDetail(ItemView):
    """An item with what routing needs per locality, and the lists holding it."""

    committed_days_by_locality: dict[str, int] = Field(
        description="Committed time limit (working days) in each locality with a business standard."
    )
    legal_days_by_locality: dict[str, int]
    localities: list[str] = Field(description="Localities with a business standard for the item.")
    lists: list[str] = Field(description="Ids of the list versions holding the item.")
    implementation_codes_by_locality: dict[str, str] = Field(
        default_factory=dict, description="Each locality's implementation code (实施清单), where known.")


class ItemPage(BaseModel):
    """One page of items; ``next_cursor`` fetches the next (null on the last page)."""

    items: list[ItemView]
    next_cursor: str | None


# ---------------------------------------------------------------------------- standards and procedures


class CommitmentRuleBody(Strict):
    """A written commitment the standard accepts in place of the material (告知承诺制, 国办发〔2020〕42号)."""

    text: str = Field(min_length=1, max_length=2000, description="The commitment's text the department publishes.")
    verify_days: int = Field(ge=1, le=365, description="Working days the owner has to verify it after acceptance.")
    excludes_prior_false: StrictBool = Field(True, description=(
        "An applicant with a commitment found false for the item is refused the commitment option."))


class MaterialBody(Strict):
    """A material the applicant hands in."""

    name: str = Field(min_length=1, max_length=200)
    form: MaterialFormName = "original"
    count: int = Field(1, ge=1, le=99)
    electronic_accepted: StrictBool = False
    note: str = Field("", max_length=500)
    commitment: CommitmentRuleBody | None = Field(None, description="Whether a written commitment may replace it.")

    def domain(self) -> Material:
        """The domain material."""
        rule = None if self.commitment is None else CommitmentRule(
            self.commitment.text, self.commitment.verify_days, self.commitment.excludes_prior_false)
        return Material(self.name, self.form, self.count, self.electronic_accepted, self.note, rule)


class StandardBody(Strict):
    """The business standard of an item in one locality."""

    competent_department: str = Field(min_length=1, max_length=200)
    materials: list[MaterialBody] = Field(default_factory=list, max_length=100)
    conditions: list[str] = Field(default_factory=list, max_length=50)
    legal_days: int = Field(ge=0, le=365)
    committed_days: int = Field(ge=0, le=365)
    fee: str = Field("不收费", min_length=1, max_length=200)
    legal_basis: list[str] = Field(default_factory=list, max_length=50)
    illustrative: StrictBool = False
    note: str = Field("", max_length=1000)
    implementation_code: str = Field("", max_length=48, pattern=r"^([0-9A-Z]{16,48})?$", description=(
        "The locality's implementation code (实施清单, GB/T 39554.1-2020); empty while unknown."))

    def domain(self, code: str, locality: str) -> Standard:
        """The domain standard."""
        return Standard(
            item_code=code, locality=locality, competent_department=self.competent_department,
            legal_days=self.legal_days, committed_days=self.committed_days,
            materials=tuple(m.domain() for m in self.materials), conditions=tuple(self.conditions),
            fee=self.fee, legal_basis=tuple(self.legal_basis), illustrative=self.illustrative, note=self.note,
            implementation_code=self.implementation_code,
        )


class CommitmentRuleView(BaseModel):
    """A written commitment the standard accepts in place of the material."""

    text: str
    verify_days: int
    excludes_prior_false: bool


class MaterialView(BaseModel):
    """A material."""

    name: str
    form: MaterialFormName
    count: int
    electronic_accepted: bool
    note: str
    commitment: CommitmentRuleView | None = None


class StandardView(BaseModel):
    """The business standard of an item in one locality."""

    locality: str
    competent_department: str
    materials: list[MaterialView]
    conditions: list[str]
    legal_days: int
    committed_days: int
    fee: str
    legal_basis: list[str]
    illustrative: bool
    note: str
    implementation_code: str = Field(description="The locality's implementation code (实施清单); empty while unknown.")

    @classmethod
    def of(cls, standard: Standard) -> StandardView:
        """The view of a domain standard."""
        return cls(locality=standard.locality, **standard.content())


class StandardsView(BaseModel):
    """An item's business standards, with the facts routing reads: ownership rule, modes, time limits."""

    item_code: str
    status: ItemStatusName
    revision: int
    ownership_rule: OwnershipRule
    modes: list[HandlingMode]
    committed_days: int
    standards: list[StandardView]


class DifferenceView(BaseModel):
    """A field whose values differ between localities (null: absent in that locality)."""

    field: str
    values: dict[str, Any] = Field(description="Per locality code, the field's value there (any JSON value).")


class StandardsDiff(BaseModel):
    """Where the localities' standards of an item differ, field by field."""

    item_code: str
    localities: list[str]
    differences: list[DifferenceView]
    identical: list[str] = Field(description="Fields with the same value in every compared locality.")


class StepBody(Strict):
    """A step of a handling procedure."""

    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=300)
    role: StepRole
    locality: str = Field(
        pattern=r"^(accepting|owning|every_owning|[1-8]\d{5})$",
        description="accepting, owning, every_owning (each owner of a joint case) or a locality code",
    )


class ProcedureBody(Strict):
    """The ordered steps of an item in one mode."""

    steps: list[StepBody] = Field(min_length=1, max_length=50)
    illustrative: StrictBool = False

    def domain(self, code: str, mode: str) -> Procedure:
        """The domain procedure."""
        steps = tuple(ProcedureStep(s.name_zh, s.name_en, s.role, s.locality) for s in self.steps)
        return Procedure(code, mode, steps, self.illustrative)


class ProcedureView(BaseModel):
    """An item's procedure in one mode."""

    mode: HandlingMode
    steps: list[dict[str, str]]
    illustrative: bool

    @classmethod
    def of(cls, procedure: Procedure) -> ProcedureView:
        """The view of a domain procedure."""
        return cls(mode=procedure.mode, **procedure.content())  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- windows and areas


class WindowBody(Strict):
    """A window (its id names its locality: ``W-<locality>-<nn>``)."""

    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1, max_length=300)
    hours: str = Field(min_length=1, max_length=300)
    phone: str = Field(min_length=1, max_length=64)
    item_codes: list[str] = Field(default_factory=list, max_length=20_000)
    illustrative: StrictBool = False


class WindowView(BaseModel):
    """A locality's cross-provincial window and the items it accepts."""

    id: str
    locality: str
    name_zh: str
    name_en: str
    address: str
    hours: str
    phone: str
    item_codes: list[str]
    illustrative: bool

    @classmethod
    def of(cls, window: Window) -> WindowView:
        """The view of a domain window."""
        return cls(**window.content())


class AreaBody(Strict):
    """An area's names and the aliases it is also found under."""

    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    aliases: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)


class AreaView(AreaBody):
    """An area."""

    key: str


# ---------------------------------------------------------------------------- lists


class ListDraft(Strict):
    """A new draft version of a named list (version 1 of a new name, or the next version)."""

    slug: str = Field(pattern=LIST_SLUG.pattern, examples=["yrd-first-list"])
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=300)
    item_codes: list[str] = Field(max_length=20_000)
    announced_on: date | None = None
    provenance: str = Field("", max_length=2000)


class ListPatch(Strict):
    """Changes to a draft list."""

    name_zh: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, min_length=1, max_length=300)
    item_codes: list[str] | None = Field(None, max_length=20_000)
    announced_on: date | None = None
    provenance: str | None = Field(None, max_length=2000)


class ListSummary(BaseModel):
    """A list version."""

    id: str
    slug: str
    version: int
    name_zh: str
    name_en: str
    status: ListStatusName
    announced_on: date | None
    published_at: Timestamp | None
    item_count: int

    @classmethod
    def of(cls, lst: CatalogueList, count: int) -> ListSummary:
        """The summary of a domain list."""
        return cls(id=lst.id, slug=lst.slug, version=lst.version, name_zh=lst.name_zh, name_en=lst.name_en,
                   status=lst.status, announced_on=lst.announced_on, published_at=lst.published_at,
                   item_count=count)


class ListItem(BaseModel):
    """An item of a list version (``revision``: pinned once the version is published)."""

    code: str
    name_zh: str
    name_en: str
    area: str
    revision: int | None


class ListDetail(ListSummary):
    """A list version with its items."""

    provenance: str
    items: list[ListItem]


class ChangeView(BaseModel):
    """A field that changed."""

    field: str
    before: Any
    after: Any


class ItemChanges(BaseModel):
    """How an item differs from one list version to another."""

    code: str
    from_revision: int | None
    to_revision: int | None
    changes: list[ChangeView]


class ListDiff(BaseModel):
    """What changed from one list version to another."""

    from_list: str
    to_list: str
    added: list[str]
    removed: list[str]
    changed: list[ItemChanges]
    unchanged: int


class ImportReport(BaseModel):
    """What an import did (or, with ``dry_run``, would do)."""

    dry_run: bool
    sheets: list[str]
    items_created: int
    items_changed: int
    items_unchanged: int
    windows_created: int
    windows_changed: int
    windows_unchanged: int
    events: int = Field(description="Item events published to every locality.")
