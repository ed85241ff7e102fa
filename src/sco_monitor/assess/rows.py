"""An assessment's results as table rows: what `store.assessments.save_assessment` writes. Pure."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sco_monitor.assess.pipeline import AssessmentRun
from sco_monitor.vocabulary import json_safe


def _num(v: Any) -> float | None:
    return json_safe(None if v is None else float(v))


def _indicator_rows(recent: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of `Indicators.recent`, column by column as plain Python values (its values are finite)."""
    if recent.empty:
        return []
    days = pd.DatetimeIndex(recent["date"]).date
    return [{"series_id": s, "indicator": i, "date": d, "value": v if math.isfinite(v) else None}
            for s, i, d, v in zip(recent["series_id"].tolist(), recent["indicator"].tolist(), days,
                                  recent["value"].astype(float).tolist())]


def result_rows(run: AssessmentRun, days: int) -> dict[str, list[dict[str, Any]]]:
    """Table → rows: indicator values and stress history of the last `days`, and as_of's
    evaluations, probabilities and forecasts, all JSON-safe (NaN and infinities as null)."""
    res = run.assessment
    as_of = res.as_of
    ind_rows = _indicator_rows(run.indicators.recent(run.specs, days))
    since = pd.Timestamp(as_of) - pd.Timedelta(days=days)
    stress_rows = []
    for scope, sc in run.stress.scopes.items():
        for sv in sc.recent(since):
            stress_rows.append({
                "scope": scope, "date": sv.date, "value": _num(sv.value), "level": sv.level,
                "segments": json_safe(sv.segments),
                "details": json_safe({"subindices": sv.subindices, "thresholds": sv.thresholds,
                                      "missing": sv.missing, "note": sv.note}),
            })
    eval_rows = [{
        "as_of": as_of, "fingerprint": ev.fingerprint, "rule": ev.rule, "labels": ev.labels,
        "value": _num(ev.value), "threshold": _num(ev.threshold), "severity": ev.severity, "kind": ev.kind,
        "summary": ev.summary, "details": json_safe(ev.details),
    } for ev in res.rules]
    model = run.ews.model
    prob_rows = [{
        "country": c, "date": as_of, "horizon": cp.horizon, "probability": _num(cp.probability),
        "details": json_safe({"drivers": cp.drivers, "method": model.method if model else None,
                              "thresholds": model.thresholds if model else {}}),
    } for c, cp in res.probability.items()]
    fc_rows = [{
        "series_id": f.series_id, "model": f.model, "as_of": f.as_of, "step": i + 1, "target_date": d,
        "mean": _num(m), "lower": _num(lo), "upper": _num(hi), "level": f.level,
    } for f in res.forecasts for i, (d, m, lo, hi) in enumerate(zip(f.dates, f.mean, f.lower, f.upper))]
    return {"indicator_values": ind_rows, "stress_index": stress_rows, "rule_evaluations": eval_rows,
            "crisis_probability": prob_rows, "forecasts": fc_rows}
