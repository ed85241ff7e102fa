"""Request bodies: strict pydantic models (unknown fields are errors), with limits on every string."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sco_monitor.partners.levels import PARTNER_LEVELS

PartnerLevel = Literal[PARTNER_LEVELS]  # type: ignore[valid-type]
Country = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3 of a country in the catalog, or WLD")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SilenceIn(Body):
    matchers: list[str] = Field(min_length=1, max_length=20, description="LABEL=VALUE (also !=, =~ REGEX, !~); all must match",
                                examples=[["country=KAZ", "category=fx"]])
    comment: str = Field(min_length=1, max_length=1000)
    duration: str | None = Field(default=None, max_length=16, description="How long, e.g. 2h, 2d, 1w", examples=["2d"])
    ends_at: datetime | None = Field(default=None, description="When it ends (ISO 8601; UTC without an offset)")

    @model_validator(mode="after")
    def _one_end(self) -> SilenceIn:
        if (self.duration is None) == (self.ends_at is None):
            raise ValueError("give either duration (e.g. 2d) or ends_at")
        for m in self.matchers:
            if not 1 <= len(m) <= 200:
                raise ValueError("each matcher is 1 to 200 characters")
        return self


class AcknowledgementIn(Body):
    comment: str = Field(default="", max_length=1000)


class NoteIn(Body):
    subject: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$",
                         description="What the note is about: a country (KAZ), an alert fingerprint, a date, or general",
                         examples=["KAZ"])
    text: str = Field(min_length=1, max_length=5000)


class ForecastIn(Body):
    level: PartnerLevel = Field(description="The level expected within the horizon")
    horizon_days: int = Field(ge=1, le=260, description="Trading days ahead")
    text: str | None = Field(default=None, max_length=2000)


class PartnerAssessmentIn(Body):
    country: str = Country
    level: PartnerLevel = Field(description="low, moderate, elevated, high, severe; or warning, critical")
    text: str = Field(min_length=1, max_length=5000)
    episode: str | None = Field(default=None, max_length=200, description="The episode this view is about, if any")
    forecast: ForecastIn | None = None
