"""The questionnaire model: what a YAML questionnaire means once it is loaded.

These are plain pydantic models with ``extra="forbid"``, so an unknown key in a questionnaire
file is an error. Cross-references (scales, action fields, expressions, unique ids) are
checked by the loader (:mod:`survey._loader`), which knows file positions; the models only
check the shape of each node.

Stored-value conventions (the "codebook layout", shared by storage, exports and scoring):

* single choice and battery statements: the option ``code`` (int or str);
* multi choice: one 0/1 variable per option, named ``<item>__<code>``;
* yes/no: 1 (yes) or 0 (no); in expressions a yes/no item is a boolean;
* number: int or float; year: int; text: str; date: ISO ``YYYY-MM-DD`` str;
* an unanswered or hidden item is missing (``None`` / ``NA``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core import LocalizedText, Location, Problem, localized

Code = int | str

#: Columns every response carries besides the questionnaire's variables.
#: They are reserved: no item may use these ids.
RESPONSE_META_COLUMNS: tuple[str, ...] = (
    "response_id",
    "questionnaire_id",
    "questionnaire_revision",
    "submitted_on",
    "language",
    "mode",
    "stratum",
)

MULTI_SEPARATOR = "__"


class Role(StrEnum):
    """How an item relates to an action field."""

    PROBLEM = "problem"
    WORRY = "worry"
    VICTIMISATION = "victimisation"
    REPORTED = "reported"
    SATISFACTION = "satisfaction"
    MEASURE_WISH = "measure_wish"


class Design(StrEnum):
    """Design variables: the respondent's district and the weighting variables."""

    DISTRICT = "district"
    SEX = "sex"
    AGE_GROUP = "age_group"


class Access(StrEnum):
    OPEN = "open"
    CODE = "code"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tag(Strict):
    """The item measures action field ``field`` in role ``role``."""

    field: str
    role: Role


class Validation(Strict):
    """A rule the answer must satisfy; ``.`` in ``expr`` is the item's own answer."""

    expr: str
    message: LocalizedText


class Option(Strict):
    code: Code
    label: LocalizedText
    #: "weiß nicht", "keine Angabe", "gehe nachts nicht allein aus": stored, never scored.
    non_substantive: bool = False
    #: Action fields this option speaks to, e.g. a wished measure "mehr Beleuchtung" in a
    #: multi-choice list; its 0/1 variable carries them besides the item's own tags.
    tags: list[Tag] = Field(default_factory=list)


class Scale(Strict):
    """A reusable, ordered answer list. Substantive options go from low to high intensity."""

    options: list[Option] = Field(min_length=1)
    #: The codes counted as "top" (e.g. "ein ziemliches / ein großes Problem").
    #: Default: the last two substantive options.
    top: list[Code] | None = None

    def substantive_codes(self) -> list[Code]:
        return [o.code for o in self.options if not o.non_substantive]

    def non_substantive_codes(self) -> list[Code]:
        return [o.code for o in self.options if o.non_substantive]

    def top_codes(self) -> list[Code]:
        return list(self.top) if self.top is not None else self.substantive_codes()[-2:]

    def option(self, code: Code) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


class _ItemBase(Strict):
    id: str
    label: LocalizedText
    help: LocalizedText = Field(default_factory=dict)
    required: Literal["hard", "soft"] | None = None
    show_if: str | None = None
    validate_: list[Validation] = Field(default_factory=list, alias="validate")
    tags: list[Tag] = Field(default_factory=list)
    design: Design | None = None


class _ChoiceBase(_ItemBase):
    #: Name of a scale in ``scales``, or ``None`` when ``options`` are given inline.
    scale: str | None = None
    options: list[Option] | None = None


class SingleChoiceItem(_ChoiceBase):
    kind: Literal["single"]
    widget: Literal["radio", "dropdown"] = "radio"


class MultiChoiceItem(_ChoiceBase):
    kind: Literal["multi"]


class Statement(Strict):
    """One row of a battery; it is its own variable."""

    id: str
    label: LocalizedText
    tags: list[Tag] = Field(default_factory=list)
    show_if: str | None = None


class BatteryItem(_ItemBase):
    """Several statements on one shared scale (a matrix question)."""

    kind: Literal["battery"]
    scale: str | None = None
    options: list[Option] | None = None
    statements: list[Statement] = Field(min_length=1)


class NumberItem(_ItemBase):
    kind: Literal["number"]
    integer: bool = True
    min: float | None = None
    max: float | None = None
    unit: LocalizedText = Field(default_factory=dict)


class TextItem(_ItemBase):
    kind: Literal["text"]
    long: bool = False
    max_length: int = Field(default=500, ge=1, le=10_000)


class YesNoItem(_ItemBase):
    kind: Literal["yesno"]


class DateItem(_ItemBase):
    kind: Literal["date"]


class YearItem(_ItemBase):
    """A calendar year, e.g. "Seit welchem Jahr wohnen Sie in …?"; stored as an int."""

    kind: Literal["year"]
    #: Default: 1900 and the current year (read when the answer is checked).
    min: int | None = None
    max: int | None = None


class InfoItem(Strict):
    """Text only: consent, data protection, explanations. Stores nothing."""

    kind: Literal["info"]
    id: str
    label: LocalizedText
    help: LocalizedText = Field(default_factory=dict)
    show_if: str | None = None


Item = Annotated[
    SingleChoiceItem
    | MultiChoiceItem
    | BatteryItem
    | NumberItem
    | TextItem
    | YesNoItem
    | DateItem
    | YearItem
    | InfoItem,
    Field(discriminator="kind"),
]
ChoiceItem = SingleChoiceItem | MultiChoiceItem | BatteryItem


class Section(Strict):
    """One page of the survey."""

    id: str
    title: LocalizedText
    show_if: str | None = None
    items: list[Item] = Field(min_length=1)


class Letter(Strict):
    """The invitation letter of the letter kit (``sicherheitsanalyse codes letters``).

    Everything is optional here so that a questionnaire without letters stays valid; the
    letter kit reports what it still needs (e.g. the address) when letters are made.
    """

    #: The short address printed on every letter and carried by its QR code, e.g.
    #: ``https://befragung.musterstadt.de``.
    url: str | None = None
    #: The last day to answer, printed on every letter.
    deadline: date | None = None
    #: The sender above the greeting, per language (e.g. the town and its prevention council).
    sender: LocalizedText = Field(default_factory=dict)
    #: Greeting and invitation per language; paragraphs are separated by blank lines.
    text: LocalizedText = Field(default_factory=dict)
    #: The name under the text, per language (e.g. the mayor).
    signature: LocalizedText = Field(default_factory=dict)


class Meta(Strict):
    id: str
    version: str
    title: LocalizedText
    default_language: str = "de"
    languages: list[str] = Field(default_factory=lambda: ["de"], min_length=1)
    access: Access = Access.OPEN
    #: Shown after submission; a generic thank-you text is used when absent.
    thanks: LocalizedText = Field(default_factory=dict)
    #: The municipality that runs the survey, e.g. "Weißwasser/O.L.", shown in the report.
    municipality: str | None = None
    #: Its official key (Amtlicher Gemeindeschlüssel), matching the incident data's areas.
    area: str | None = None
    #: The area its incident rates are compared with (e.g. the Land); default: all areas.
    reference_area: str | None = None
    #: The invitation letter of the letter kit; without it a generic letter is printed.
    letter: Letter = Field(default_factory=Letter)


VariableKind = Literal[
    "single", "multi_option", "statement", "number", "text", "yesno", "date", "year"
]


class Variable(Strict):
    """One column of the codebook layout."""

    id: str
    item_id: str
    kind: VariableKind
    label: LocalizedText
    #: Value labels: option code -> label (for multi options: the option's own code).
    options: list[Option] = Field(default_factory=list)
    scale: Scale | None = None
    tags: list[Tag] = Field(default_factory=list)
    design: Design | None = None
    integer: bool = True


class Questionnaire(Strict):
    """A loaded, validated questionnaire. Use :func:`survey.load_questionnaire` to get one."""

    meta: Meta
    scales: dict[str, Scale] = Field(default_factory=dict)
    sections: list[Section] = Field(min_length=1)
    #: Content hash of the source text, set by the loader.
    revision: str = ""

    @property
    def id(self) -> str:
        return self.meta.id

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item:
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def scale_of(self, item: ChoiceItem) -> Scale:
        """The answer list of a choice item: its named scale or its inline options."""
        if item.scale is not None:
            return self.scales[item.scale]
        assert item.options is not None, "the loader guarantees scale or options"
        return Scale(options=item.options)

    def text(self, text: LocalizedText, lang: str) -> str:
        """``text`` in ``lang``, falling back to the default language."""
        return localized(text, lang, fallback=self.meta.default_language)

    def design_item(self, design: Design) -> Item | None:
        return next((i for i in self.items() if getattr(i, "design", None) == design), None)

    def variables(self) -> list[Variable]:
        """Every stored variable in codebook order (multi choice expanded per option)."""
        out: list[Variable] = []
        for item in self.items():
            out.extend(self._variables_of(item))
        return out

    def _variables_of(self, item: Item) -> list[Variable]:
        # Imported here: the kinds build on this module's models.
        from survey.kinds import kind_of

        return kind_of(item).variables(item, self)

    def language_problems(self, lang: str, field: str) -> list[Problem]:
        """``[]`` when ``lang`` is one of the questionnaire's languages, else the one problem,
        located at ``field`` (a response's language, a letter's or a printed form's)."""
        if lang in self.meta.languages:
            return []
        expected = ", ".join(self.meta.languages)
        return [
            Problem(
                Location(field=field), "storage.bad_choice", {"value": lang, "expected": expected}
            )
        ]

    def design_variable(self, design: Design) -> Variable | None:
        """The single-choice variable marked ``design`` (the respondent's district, sex or
        age group), if the questionnaire has one."""
        return next(
            (v for v in self.variables() if v.design == design and v.kind == "single"), None
        )

    def variables_tagged(self, field: str, role: Role) -> list[Variable]:
        return [
            v
            for v in self.variables()
            if any(tag.field == field and tag.role == role for tag in v.tags)
        ]


def multi_variable_id(item_id: str, code: Code) -> str:
    """The 0/1 variable of one option of a multi-choice item."""
    return f"{item_id}{MULTI_SEPARATOR}{code}"
