"""What `sco-monitor assess` prints: a compact text summary, or the assessment as JSON."""

from __future__ import annotations

import json
from typing import Any

from sco_monitor import i18n
from sco_monitor.assess.model import Assessment
from sco_monitor.vocabulary import SEVERITIES, json_safe, severity_rank
from sco_monitor.i18n import _


def as_json(a: Assessment) -> dict[str, Any]:
    """as_of, stress_index (scope → value, level, segments ...), probability (country → P),
    rules (rule, labels, value, threshold, severity ...), forecasts, and the rest of the assessment."""
    data = a.model_dump(mode="python")
    data["probability_details"] = data.pop("probability")
    data["probability"] = {c: cp.probability for c, cp in a.probability.items()}
    return json_safe(data)


def render_json(a: Assessment) -> str:
    return json.dumps(as_json(a), indent=1, sort_keys=False, allow_nan=False)


def _num(v: float | None, decimals: int = 3) -> str:
    return "-" if v is None else i18n.decimal(v, decimals, group=False)


def render_text(a: Assessment, top: int = 5, max_rules: int = 20) -> str:
    """Stress per scope with its level, the top probabilities and the rules firing (in the active language)."""
    lines = [_("Assessment as of %(date)s", date=a.as_of.isoformat()), "",
             _("Stress index (scope, value, level, main driver):")]
    for scope, sv in a.stress_index.items():
        driver = max(sv.segments.items(), key=lambda kv: kv[1])[0] if sv.segments else ""
        note = f"  [{sv.note}]" if sv.note else ""
        level = i18n.level_name(sv.level) if sv.level else "-"
        lines.append(f"  {scope:<4} {_num(sv.value):>6}  {level:<9} {i18n.segment_name(driver)}{note}")
    probs = sorted(((c, cp) for c, cp in a.probability.items() if cp.probability is not None),
                   key=lambda kv: -kv[1].probability)
    lines += ["", _("Crisis probability (top %(n)s):", n=min(top, len(probs)) if probs else 0)]
    if probs:
        for c, cp in probs[:top]:
            lines.append(f"  {c:<4} " + _("%(p)s within %(n)s sessions", p=f"{i18n.percent(cp.probability, 1):>6}",
                                           n=cp.horizon))
    else:
        lines.append("  " + _("none estimable (no crisis history to learn from yet)"))
    counts = {s: sum(r.severity == s for r in a.rules) for s in SEVERITIES}
    firing = sorted((r for r in a.rules if r.severity in ("critical", "warn")),
                    key=lambda r: (-severity_rank(r.severity), r.rule, sorted(r.labels.items())))
    lines += ["", _("Rules: %(critical)s critical, %(warn)s warn, %(ok)s ok, %(no_data)s no data",
                    critical=counts["critical"], warn=counts["warn"], ok=counts["ok"], no_data=counts["no_data"])]
    for r in firing[:max_rules]:
        lines.append(f"  {i18n.severity_name(r.severity):<8} {r.rule:<26} {r.summary}")
    if len(firing) > max_rules:
        lines.append("  " + _("... and %(n)s more (see --json)", n=len(firing) - max_rules))
    if a.stale_series:
        shown = ", ".join(a.stale_series[:8]) + (" ..." if len(a.stale_series) > 8 else "")
        lines += ["", _("Stale or missing: %(n)s series (%(ids)s)", n=len(a.stale_series), ids=shown)]
    if a.forecasts:
        unfav = [f for f in a.forecasts if f.unfavourable]
        lines += ["", _("Forecasts: %(n)s (%(unfavourable)s unfavourable)", n=len(a.forecasts), unfavourable=len(unfav))]
    return "\n".join(lines)
