"""Summary templates render from their cached parse exactly as str.format renders them, errors included."""

from __future__ import annotations

import pytest

from sco_monitor.config.template import TemplateError, render

VALUES = {"value": 3.14159, "severity": "warn", "threshold": 2.0, "name": "N", "unit": "pp", "window": None,
          "probability": 0.25, "horizon": 20, "model": "arima"}


@pytest.mark.parametrize("template", [
    "VIX at {value:.1f} ({severity}, threshold {threshold:.0f})", "{name!r} {value!s:>10} {{lit}} {unit:^8}",
    "{probability:.1%} in {horizon} days {model}", "{value:,.2f}{window}", "", "plain", "{value!a:<9}x{value}",
])
def test_render_equals_str_format(template: str) -> None:
    for _ in range(2):  # parsed once, rendered again from the cache
        assert render(template, VALUES) == template.format_map(VALUES)


@pytest.mark.parametrize(("template", "error"), [
    ("{value:d}", "cannot render '{value:d}': ValueError: Unknown format code 'd'"),
    ("{value!x}", "Unknown conversion specifier x"),
    ("{window:.2f}", "TypeError: unsupported format string passed to NoneType"),
    ("{bad}", "cannot render '{bad}': KeyError: 'bad'"),  # not a plain value: not rendered
    ("{nope}", "unknown template field {nope}"),
    ("{value.real}", "is not allowed: use plain names"),
    ("{value:{unit}}", "nested fields"),
    ("{", "malformed template"),
])
def test_render_errors_name_the_problem(template: str, error: str) -> None:
    for _ in range(2):
        with pytest.raises(TemplateError, match=error.replace("(", r"\(").replace("{", r"\{").replace("}", r"\}")
                           .replace(".", r"\.").replace("[", r"\[")):
            render(template, {**VALUES, "bad": [1]})
