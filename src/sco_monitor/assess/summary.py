"""What `sco-monitor assess` prints: a compact text summary, or the assessment as JSON."""

from __future__ import annotations

import json
from typing import Any

from sco_monitor.assess.model import Assessment
from sco_monitor.vocabulary import SEVERITIES, json_safe, severity_rank


def as_json(a: Assessment) -> dict[str, Any]:
    """as_of, stress_index (scope → value, level, segments ...), probability (country → P),
    rules (rule, labels, value, threshold, severity ...), forecasts, and the rest of the assessment."""
    data = a.model_dump(mode="python")
    data["probability_details"] = data.pop("probability")
    data["probability"] = {c: cp.probability for c, cp in a.probability.items()}
    return json_safe(data)


def render_json(a: Assessment) -> str:
    return json.dumps(as_json(a), indent=1, sort_keys=False, allow_nan=False)


def _num(v: float | None, fmt: str = ".3f") -> str:
    return "-" if v is None else format(v, fmt)


def render_text(a: Assessment, top: int = 5, max_rules: int = 20) -> str:
    """Stress per scope with its level, the top probabilities and the rules firing."""
    lines = [f"Assessment as of {a.as_of.isoformat()}", "", "Stress index (scope, value, level, main driver):"]
    for scope, sv in a.stress_index.items():
        driver = max(sv.segments.items(), key=lambda kv: kv[1])[0] if sv.segments else ""
        note = f"  [{sv.note}]" if sv.note else ""
        lines.append(f"  {scope:<4} {_num(sv.value):>6}  {sv.level or '-':<9} {driver}{note}")
    probs = sorted(((c, cp) for c, cp in a.probability.items() if cp.probability is not None),
                   key=lambda kv: -kv[1].probability)
    lines += ["", f"Crisis probability (top {min(top, len(probs)) if probs else 0}):"]
    if probs:
        for c, cp in probs[:top]:
            lines.append(f"  {c:<4} {cp.probability:6.1%} within {cp.horizon} sessions")
    else:
        lines.append("  none estimable (no crisis history to learn from yet)")
    counts = {s: sum(r.severity == s for r in a.rules) for s in SEVERITIES}
    firing = sorted((r for r in a.rules if r.severity in ("critical", "warn")),
                    key=lambda r: (-severity_rank(r.severity), r.rule, sorted(r.labels.items())))
    lines += ["", (f"Rules: {counts['critical']} critical, {counts['warn']} warn, {counts['ok']} ok, "
                   f"{counts['no_data']} no data")]
    for r in firing[:max_rules]:
        lines.append(f"  {r.severity:<8} {r.rule:<26} {r.summary}")
    if len(firing) > max_rules:
        lines.append(f"  ... and {len(firing) - max_rules} more (see --json)")
    if a.stale_series:
        shown = ", ".join(a.stale_series[:8]) + (" ..." if len(a.stale_series) > 8 else "")
        lines += ["", f"Stale or missing: {len(a.stale_series)} series ({shown})"]
    if a.forecasts:
        unfav = [f for f in a.forecasts if f.unfavourable]
        lines += ["", f"Forecasts: {len(a.forecasts)} ({len(unfav)} unfavourable)"]
    return "\n".join(lines)
