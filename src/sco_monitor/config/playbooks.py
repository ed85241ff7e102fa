"""Models of alerts/playbooks.yaml: recommendations and joint action plans per category and level.

Action texts cite the numbers that triggered them through placeholders; the set of placeholders
and their format specs are checked on load, so a typo fails at start-up, not in the morning report.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from sco_monitor.i18n import DEFAULT, LANGUAGES, Language

Level = Literal["warn", "critical"]

#: Placeholders an action text may cite, and a sample of each used to check format specs on load.
#: Numbers are formatted by the report (`{value}` as a percent for changes, a sigma for z-scores,
#: plain for levels) unless the text gives its own spec, e.g. `{value:.1%}`.
PLACEHOLDERS: dict[str, object] = {
    "value": 0.1234,
    "threshold": 0.1,
    "warn": 0.05,
    "critical": 0.1,
    "series": "fx.usd_kzt",
    "series_name": "USD/KZT",
    "country": "KAZ",
    "country_name": "Kazakhstan",
    "countries": "Kazakhstan, Russia",
    "n_countries": 2,
    "rule": "fx_depreciation_20d",
    "severity": "warn",
    "category": "fx",
}


def check_template(text: str) -> str:
    """Reject unknown placeholders and bad format specs now rather than at report time."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise ValueError(f"malformed placeholder in {text!r}: {e}") from None
    for f in fields:
        name = f.split(".")[0].split("[")[0]
        if name not in PLACEHOLDERS or name != f:
            known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{f}}}; expected one of: {known}")
    try:
        text.format(**PLACEHOLDERS)
    except (ValueError, TypeError, IndexError) as e:
        raise ValueError(f"bad format spec in {text!r}: {e}") from None
    return text


def _placeholders_of(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def _localized(value: object) -> object:
    """A plain string is the English text; a mapping gives the text per language ({en: ..., ru: ..., zh: ...})."""
    return {DEFAULT: value} if isinstance(value, str) else value


Localized = Annotated[dict[Language, str], BeforeValidator(_localized)]


def check_localized(texts: dict[str, str]) -> dict[str, str]:
    """English is required; every translation cites the same numbers (placeholders) as the English text."""
    if DEFAULT not in texts:
        raise ValueError(f"the English text ({DEFAULT}:) is required; got only {', '.join(texts) or 'none'}")
    for lang, text in texts.items():
        try:
            check_template(text)
        except ValueError as e:
            raise ValueError(str(e) if lang == DEFAULT else f"{lang}: {e}") from None
    english = _placeholders_of(texts[DEFAULT])
    for lang, text in texts.items():
        mine = _placeholders_of(text)
        if mine != english:
            want = ", ".join("{" + f + "}" for f in sorted(english)) or "none"
            raise ValueError(f"{lang}: placeholders differ from the English text's (expected {want})")
    return texts


def text_in(texts: dict[str, str], language: str) -> str:
    """The text in the language; English when it has none (configs load-checked for their languages)."""
    return texts.get(language) or texts.get(DEFAULT, "")


def missing_languages(texts: dict[str, str], languages: list[str]) -> list[str]:
    return [lang for lang in languages if lang in LANGUAGES and not texts.get(lang)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


class Action(Model):
    text: Localized = Field(
        description="The recommended action, a string (English) or one per language {en: ..., ru: ..., zh: ...}; "
        "may cite {value}, {threshold}, {series}, {series_name}, {country}, {country_name}, {countries}, "
        "{n_countries}, {rule}, {severity}, {warn}, {critical}, the same ones in every language."
    )
    addressee: Literal["national", "joint"] = Field(
        default="national", description="national authorities, or the member states jointly."
    )
    who: Localized = Field(
        default_factory=lambda: {DEFAULT: ""},
        description="Who acts, e.g. central bank, ministry of finance (per language like text).",
    )

    @field_validator("text")
    @classmethod
    def _placeholders(cls, v: dict[str, str]) -> dict[str, str]:
        return check_localized(v)

    @field_validator("who")
    @classmethod
    def _who(cls, v: dict[str, str]) -> dict[str, str]:
        return check_localized(v)


class When(Model):
    direction: Literal["above", "below"] | None = Field(
        default=None, description="Only breaches on this side of the rule, e.g. below = a price fall."
    )
    series_tags: list[str] = Field(
        default_factory=list, description="Only breaches on series carrying all these universe tags, e.g. [oil]."
    )


class Exposure(Model):
    tags: list[str] = Field(
        default_factory=list, description="Members with a series carrying any of these tags, e.g. oil_exporter."
    )
    countries: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]] = Field(
        default_factory=list, description="Members named directly (alpha-3)."
    )


class Playbook(Model):
    category: str = Field(description="Risk category the playbook answers.")
    level: Level = Field(description="Alert severity it applies to.")
    title: Localized = Field(description="Heading of the recommendation, a string or one per language.")
    when: When | None = Field(
        default=None,
        description="Narrows the playbook to some breaches; the most specific matching playbook wins.",
    )
    exposure: Exposure | None = Field(
        default=None,
        description="Members a world-level breach (e.g. an oil-price fall) is addressed to; "
        "all members when empty.",
    )
    actions: list[Action] = Field(min_length=1, description="Actions, in order.")
    joint_actions: list[Action] = Field(
        default_factory=list, description="Actions for a joint plan when several members share the risk."
    )

    @field_validator("title")
    @classmethod
    def _title_placeholders(cls, v: dict[str, str]) -> dict[str, str]:
        return check_localized(v)

    def texts(self) -> list[tuple[str, dict[str, str]]]:
        """Every localized text with its path inside the playbook, for the language check."""
        out: list[tuple[str, dict[str, str]]] = [("title", self.title)]
        for field in ("actions", "joint_actions"):
            for j, a in enumerate(getattr(self, field)):
                out.append((f"{field}[{j}].text", a.text))
                if any(a.who.values()):
                    out.append((f"{field}[{j}].who", a.who))
        return out

    @property
    def key(self) -> tuple[str, str, str | None, tuple[str, ...]]:
        """Two playbooks with the same key would compete for the same breaches."""
        w = self.when or When()
        return (self.category, self.level, w.direction, tuple(sorted(w.series_tags)))


class Playbooks(Model):
    playbooks: list[Playbook] = Field(default_factory=list, description="The playbooks.")
