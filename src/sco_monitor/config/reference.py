"""The configuration reference of the docs site, generated from the models so it cannot drift.

`python -m sco_monitor.config.reference` prints it; `--write docs/configuration.md` replaces the
text between the markers of that page; a test checks the page carries the same text.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sco_monitor.catalog import Fallback, Gap, Series
from sco_monitor.config.alerting import (
    Delivery,
    EmailReceiver,
    FileReceiver,
    Heartbeat,
    InhibitRule,
    Receiver,
    Route,
    WebhookReceiver,
)
from sco_monitor.config.playbooks import Action, Exposure, Playbook, When
from sco_monitor.config.rules import Rule, Selector
from sco_monitor.config.settings import (
    Episode,
    IndicatorSpec,
    NowcastPanel,
    Schedule,
    Settings,
    SourceSettings,
    SpreadSpec,
)

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("sco-monitor.yaml", Settings),
    ("schedules.<job> (sco-monitor.yaml)", Schedule),
    ("sources.<name> (sco-monitor.yaml)", SourceSettings),
    ("assessment.episodes[] (sco-monitor.yaml)", Episode),
    ("assessment.indicators[] (sco-monitor.yaml)", IndicatorSpec),
    ("assessment.spreads[] (sco-monitor.yaml)", SpreadSpec),
    ("assessment.nowcasts[] (sco-monitor.yaml)", NowcastPanel),
    ("receivers[] (sco-monitor.yaml)", Receiver),
    ("receivers[].email", EmailReceiver),
    ("receivers[].webhook", WebhookReceiver),
    ("receivers[].file", FileReceiver),
    ("route (and every routes[] below it)", Route),
    ("alerting.inhibit_rules[]", InhibitRule),
    ("alerting.heartbeat", Heartbeat),
    ("alerting.delivery", Delivery),
    ("universe.yaml: series[]", Series),
    ("universe.yaml: series[].fallback", Fallback),
    ("universe.yaml: gaps[]", Gap),
    ("rules.yaml: rules[]", Rule),
    ("rules.yaml: rules[].select", Selector),
    ("playbooks.yaml: playbooks[]", Playbook),
    ("playbooks.yaml: playbooks[].when", When),
    ("playbooks.yaml: playbooks[].exposure", Exposure),
    ("playbooks.yaml: playbooks[].actions[] (and joint_actions[])", Action),
]


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args if a is not type(None)) + " (optional)" if type(None) in args else " \\| ".join(_type_name(a) for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (list, tuple, set):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {_type_name(args[1])}" if args else "map"
    if isinstance(tp, type):
        if tp.__name__ == "timedelta":
            return "duration"
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(tp.__name__, tp.__name__)
    return str(tp)


def _default(field: FieldInfo) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    else:
        return "required"
    if isinstance(value, BaseModel):
        return "(see below)" if type(value).model_fields else "{}"
    if isinstance(value, dict) and value and all(isinstance(v, BaseModel) for v in value.values()):
        return ", ".join(value)
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return f"{len(value)} built-in"
    if value is None:
        return "none"
    if hasattr(value, "total_seconds"):
        from sco_monitor.config.types import format_duration

        return format_duration(value)
    return f"`{value}`" if value != "" else '""'


def _rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows: list[str] = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        desc = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {desc} |")
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel) and model is Settings:
            rows.extend(_rows(sub, key + "."))
    return rows


def generate() -> str:
    out = [START, ""]
    for title, model in SECTIONS:
        heading = " ".join(f"`{word}`" if "<" in word else word for word in title.split(" "))  # <job> is no tag
        out += [f"### {heading}", "", "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        out += _rows(model)
        out.append("")
    out.append(END)
    return "\n".join(out)


def write(path: Path) -> None:
    """Replace the reference between the START and END markers of a Markdown page."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{path}: no {START} ... {END} markers to write between")
    path.write_text(text[: text.index(START)] + generate() + text[text.index(END) + len(END):], encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write(Path(sys.argv[2]))
    elif len(sys.argv) == 1:
        print(generate())
    else:
        raise SystemExit("usage: python -m sco_monitor.config.reference [--write docs/configuration.md]")
