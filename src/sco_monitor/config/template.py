"""Summary templates: str.format syntax over a fixed set of names, nothing else.

Templates come from YAML written by users, so they may only name the variables listed here, with
no attribute or index access (`{value.__class__}` is rejected) and bounded format widths.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

#: The names a rule summary may cite.
SUMMARY_FIELDS: frozenset[str] = frozenset({
    "rule", "category", "series", "name", "country", "scope", "unit", "value", "threshold",
    "severity", "warn", "critical", "direction", "as_of", "date", "window", "level", "index",
    "probability", "horizon", "model",
})

_WIDTH = re.compile(r"(\d+)")


class TemplateError(ValueError):
    """A template names something it may not, or is malformed."""


@lru_cache(maxsize=1024)
def _parts(template: str) -> tuple[tuple[str, str | None, str | None, str | None], ...]:
    """The template parsed (literal text, field name, format spec, conversion), once per template: a
    rule's summary is rendered for every target every day, from the same few templates."""
    try:
        return tuple(string.Formatter().parse(template))
    except ValueError as e:
        raise TemplateError(f"malformed template: {e}") from None


def _fields(template: str) -> list[tuple[str, str]]:
    """(name, format spec) of each field of a template."""
    return [(name, spec or "") for _, name, spec, _ in _parts(template) if name is not None]


def check(template: str, allowed: frozenset[str] = SUMMARY_FIELDS) -> None:
    """Raise TemplateError unless every field is an allowed plain name with a sane format spec."""
    for name, spec in _fields(template):
        if name == "" or not name.isidentifier():
            raise TemplateError(f"template field {{{name}}} is not allowed: use plain names like {{value}}")
        if name not in allowed:
            raise TemplateError(f"unknown template field {{{name}}}; expected one of: {', '.join(sorted(allowed))}")
        if spec:
            if "{" in spec:
                raise TemplateError(f"nested fields in the format of {{{name}}} are not allowed")
            if any(int(w) > 64 for w in _WIDTH.findall(spec)):
                raise TemplateError(f"format width in {{{name}:{spec}}} is too large")


class _Formatter(string.Formatter):
    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        if not field_name.isidentifier():
            raise TemplateError(f"template field {{{field_name}}} is not allowed")
        return self.get_value(field_name, args, kwargs), field_name


_FORMATTER = _Formatter()


def render(template: str, values: Mapping[str, Any]) -> str:
    """Render with only plain values (numbers, strings, None); raises TemplateError on any failure."""
    check(template, frozenset(values) | SUMMARY_FIELDS)
    safe = {k: v for k, v in values.items() if v is None or isinstance(v, (int, float, str))}
    try:
        return _format(template, safe)
    except (KeyError, ValueError, TypeError, IndexError) as e:
        raise TemplateError(f"cannot render {template!r}: {type(e).__name__}: {e}") from None


def _format(template: str, values: Mapping[str, Any]) -> str:
    """`str.format_map` of a checked template (plain names, literal format specs) from its cached parse:
    what `string.Formatter.vformat` does for such a template, without parsing it again."""
    out: list[str] = []
    for literal, name, spec, conversion in _parts(template):
        out.append(literal)
        if name is not None:
            value = _FORMATTER.convert_field(_FORMATTER.get_value(name, (), values), conversion)
            out.append(_FORMATTER.format_field(value, spec or ""))
    return "".join(out)
