"""Models of alerts/playbooks.yaml: recommendations and joint action plans per category and level."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["warn", "critical"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


class Action(Model):
    text: str = Field(description="The recommended action; may cite {value}, {threshold}, {series}, {country}.")
    addressee: Literal["national", "joint"] = Field(
        default="national", description="national authorities, or the member states jointly."
    )
    who: str = Field(default="", description="Who acts, e.g. central bank, ministry of finance.")


class Playbook(Model):
    category: str = Field(description="Risk category the playbook answers.")
    level: Level = Field(description="Alert severity it applies to.")
    title: str = Field(description="Heading of the recommendation.")
    actions: list[Action] = Field(min_length=1, description="Actions, in order.")
    joint_actions: list[Action] = Field(
        default_factory=list, description="Actions for a joint plan when several members share the risk."
    )


class Playbooks(Model):
    playbooks: list[Playbook] = Field(default_factory=list, description="The playbooks.")
