"""A fixed, realistic assessment for report tests: Friday 10 October 2008, the week after Lehman.

Market numbers are real: the S&P 500 and WTI histories come from `arch.data` (installed with
arch); the other closes are copied from public series (the source of each is named beside it).
The stress index and crisis probabilities are model outputs, so they are stand-ins: the world
index is derived from the real S&P 500 history (expanding empirical CDFs of 20-day realised
volatility and of the drawdown from the one-year high, in the spirit of the CISS), and member
indices are fixed multiples of it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

import numpy as np
import pandas as pd
from scipy.stats import norm

from sco_monitor.assess.model import (
    Assessment,
    CrisisProbability,
    Forecast,
    QualityFlag,
    RuleEvaluation,
    StressValue,
)

AS_OF = date(2008, 10, 10)
#: The daemon's report job runs at 08:00 Almaty (UTC+6): 02:00 UTC.
NOW = datetime(2008, 10, 10, 2, 0, tzinfo=UTC)
PREVIOUS_NOW = datetime(2008, 10, 9, 2, 0, tzinfo=UTC)
THRESHOLDS = {"low": 0.0, "moderate": 0.2, "elevated": 0.35, "high": 0.5, "severe": 0.7}
#: Member stress relative to the world index on the same day (stand-ins, see the module doc).
MEMBER_RATIO = {
    "RUS": 1.08, "KAZ": 0.74, "CHN": 0.66, "IND": 0.69, "PAK": 0.55,
    "IRN": 0.49, "BLR": 0.39, "UZB": 0.26, "KGZ": 0.33, "TJK": 0.30,
}
SEGMENT_SHARE = {"equity": 0.34, "volatility": 0.24, "rates": 0.16, "fx": 0.14, "commodities": 0.12}

# Real closes not in arch.data (value on 2008-10-10 unless said otherwise).
IMOEX = (700.37, 1969.91)  # MOEX Russia index: close, record close 2007-12-12 (moex.com via empenoso/imoex-sp500-historical-returns)
SSE = (2000.572, 6092.057)  # Shanghai Composite: close, record close 2007-10-16 (Yahoo 000001.SS)
SENSEX = (10527.85, 20873.33)  # BSE Sensex: close, record close 2008-01-08 (Yahoo ^BSESN)
USD_INR = (48.41, 45.62)  # Fed H.10: 2008-10-10 and 2008-09-12 (20 business days earlier)
USD_CNY = (6.8357, 6.7810)  # Fed H.10: same dates
BRENT = (74.58, 94.37)  # EIA Brent spot: 2008-10-10 and 2008-09-12
VIX = 69.95  # CBOE VIX close
BAA10Y = 4.86  # FRED BAA10Y


@cache
def spx(until: date = AS_OF) -> pd.Series:
    """S&P 500 (adjusted close) from arch.data, 1999-01-04 to `until`."""
    import arch.data.sp500

    s = arch.data.sp500.load()["Adj Close"].loc[:str(until)]
    s.index = pd.DatetimeIndex(s.index).normalize()
    return s.astype(float)


@cache
def wti(until: date = AS_OF) -> pd.Series:
    """WTI spot (EIA, FRED DCOILWTICO) from arch.data, to `until`."""
    import arch.data.wti

    s = arch.data.wti.load()["DCOILWTICO"].loc["1999-01-01":str(until)].dropna()
    s.index = pd.DatetimeIndex(s.index).normalize()
    return s.astype(float)


def level_of(value: float) -> str:
    return max((k for k, lo in THRESHOLDS.items() if value >= lo), key=lambda k: THRESHOLDS[k])


@cache
def world_stress(until: date = AS_OF) -> pd.Series:
    """A causal world stress index in [0, 1] from the real S&P 500 (see the module doc)."""
    px = spx(until)
    rvol = np.log(px).diff().rolling(20).std()
    dd = -(px / px.rolling(252, min_periods=1).max() - 1)
    e_vol = rvol.expanding(min_periods=60).rank(pct=True)
    e_dd = dd.expanding(min_periods=60).rank(pct=True)
    return (0.87 * (e_vol + e_dd) / 2).dropna().clip(0, 1)


@cache
def stress_rows(until: date = AS_OF) -> list[dict]:
    """Rows of the `stress_index` table for every day before `until` (the assessment adds `until`)."""
    w = world_stress(until).loc[: pd.Timestamp(until) - pd.Timedelta(days=1)]
    rows = []
    for scope, ratio in {"WLD": 1.0, **MEMBER_RATIO}.items():
        values = (w * ratio).clip(0, 0.99).round(4)
        for d, v in values.items():
            rows.append({"scope": scope, "date": d.date(), "value": float(v), "level": level_of(float(v)),
                         "segments": {}})
    return rows


def stress_value(scope: str, value: float) -> StressValue:
    return StressValue(
        scope=scope, value=round(value, 4), level=level_of(value),
        segments={k: round(value * share, 4) for k, share in SEGMENT_SHARE.items()},
        thresholds=THRESHOLDS,
    )


def rule(name: str, kind: str, category: str, value: float | None, *, warn: float, critical: float,
          direction: str = "above", series: str | None = None, country: str | None = None,
          scope: str | None = None, summary: str = "") -> RuleEvaluation:
    labels = {"category": category}
    if series:
        labels["series"] = series
    if country:
        labels["country"] = country
    if scope:
        labels["scope"] = scope
    if value is None:
        severity, threshold = "no_data", None
    else:
        past = (lambda th: value >= th) if direction == "above" else (lambda th: value <= th)
        severity = "critical" if past(critical) else "warn" if past(warn) else "ok"
        threshold = critical if severity == "critical" else warn
    return RuleEvaluation(
        rule=name, kind=kind, category=category, labels=labels, series_id=series, value=value,
        threshold=threshold, severity=severity, warn=warn, critical=critical, direction=direction,
        summary=summary,
    )


def fan(series_id: str, history: pd.Series, threshold: float, below: bool, model: str = "rw_garch",
        horizon: int = 20, level: float = 0.9, as_of: date = AS_OF) -> Forecast:
    """A random-walk forecast with the recent (20-day) volatility of the real history."""
    last = float(history.iloc[-1])
    sd = float(np.log(history).diff().tail(20).std())
    dates = list(pd.bdate_range(pd.Timestamp(as_of) + pd.Timedelta(days=1), periods=horizon).date)
    z = norm.ppf(0.5 + level / 2)
    steps = np.arange(1, horizon + 1)
    lower = last * np.exp(-z * sd * np.sqrt(steps))
    upper = last * np.exp(z * sd * np.sqrt(steps))
    p_end = norm.cdf(np.log(threshold / last) / (sd * np.sqrt(horizon)))
    prob = float(p_end if below else 1 - p_end)
    return Forecast(
        series_id=series_id, model=model, as_of=as_of, dates=dates, mean=[last] * horizon,
        lower=[float(x) for x in lower], upper=[float(x) for x in upper], level=level,
        threshold=threshold, breach_probability=round(prob, 4), unfavourable=prob >= 0.3,
    )


def assessment(as_of: date = AS_OF) -> Assessment:
    """The fixed assessment of 2008-10-10."""
    px, oil = spx(), wti()
    wld = float(world_stress().loc[str(as_of)])
    spx_dd = float(px.iloc[-1] / px.max() - 1)  # -42.5 % from the 2007-10-09 record
    wti_20d = float(oil.iloc[-1] / oil.iloc[-21] - 1)  # 77.44 vs 101.19 on 2008-09-12: -23.5 %
    stress = {"WLD": stress_value("WLD", wld)}
    stress |= {c: stress_value(c, min(wld * r, 0.99)) for c, r in MEMBER_RATIO.items()}
    rules = [
        rule("equity_drawdown", "drawdown", "equity", spx_dd, warn=-0.10, critical=-0.20, direction="below",
              series="eq.us.spx", country="USA", summary=f"S&P 500 is {spx_dd:.1%} below its high"),
        rule("equity_drawdown", "drawdown", "equity", IMOEX[0] / IMOEX[1] - 1, warn=-0.10, critical=-0.20,
              direction="below", series="eq.ru.imoex", country="RUS"),
        rule("equity_drawdown", "drawdown", "equity", SSE[0] / SSE[1] - 1, warn=-0.10, critical=-0.20,
              direction="below", series="eq.cn.sse", country="CHN"),
        rule("equity_drawdown", "drawdown", "equity", SENSEX[0] / SENSEX[1] - 1, warn=-0.10, critical=-0.20,
              direction="below", series="eq.in.sensex", country="IND"),
        rule("fx_depreciation_20d", "change", "fx", USD_INR[0] / USD_INR[1] - 1, warn=0.05, critical=0.10,
              series="fx.usd_inr", country="IND"),
        rule("fx_depreciation_20d", "change", "fx", USD_CNY[0] / USD_CNY[1] - 1, warn=0.05, critical=0.10,
              series="fx.usd_cny", country="CHN"),
        rule("fx_depreciation_20d", "change", "fx", None, warn=0.05, critical=0.10, series="fx.usd_tjs",
              country="TJK"),
        rule("oil_price_fall_20d", "change", "commodity", wti_20d, warn=-0.15, critical=-0.25, direction="below",
              series="cmd.wti", country="WLD"),
        rule("oil_price_fall_20d", "change", "commodity", BRENT[0] / BRENT[1] - 1, warn=-0.15, critical=-0.25,
              direction="below", series="cmd.brent", country="WLD"),
        rule("vix_level", "level", "volatility", VIX, warn=30, critical=45, series="vol.vix", country="USA"),
        rule("credit_spread_level", "level", "rates", BAA10Y, warn=3.5, critical=5.0, series="spread.us.baa10y",
              country="USA"),
        rule("contagion_correlation", "level", "contagion", 0.74, warn=0.6, critical=0.8, scope="WLD"),
        rule("crisis_probability", "probability", "stress", 0.46, warn=0.3, critical=0.5, country="RUS"),
    ]
    rules += [
        rule("stress_level", "stress_level", "stress", sv.value, warn=0.5, critical=0.7, scope=scope)
        for scope, sv in stress.items()
    ]
    forecasts = [
        fan("eq.us.spx", px.tail(120), threshold=850.0, below=True),
        fan("cmd.wti", oil.tail(120), threshold=70.0, below=True),
        Forecast(series_id="fx.usd_cny", model="arima", as_of=as_of,
                 dates=list(pd.bdate_range("2008-10-13", periods=20).date), mean=[6.84] * 20,
                 lower=[6.80 - 0.002 * i for i in range(20)], upper=[6.88 + 0.002 * i for i in range(20)],
                 threshold=7.0, breach_probability=0.01, unfavourable=False),
    ]
    rules.append(rule("forecast_breach", "forecast_breach", "equity", forecasts[0].breach_probability,
                       warn=0.3, critical=0.6, series="eq.us.spx", country="USA"))
    prob = {
        "RUS": CrisisProbability(country="RUS", horizon=60, probability=0.46,
                                 drivers={"equity drawdown": 0.19, "oil price": 0.14, "world stress": 0.09}),
        "KAZ": CrisisProbability(country="KAZ", horizon=60, probability=0.31,
                                 drivers={"oil price": 0.12, "bank funding": 0.10, "world stress": 0.06}),
        "IND": CrisisProbability(country="IND", horizon=60, probability=0.22,
                                 drivers={"FX pressure": 0.09, "equity drawdown": 0.08}),
        "CHN": CrisisProbability(country="CHN", horizon=60, probability=0.12,
                                 drivers={"equity drawdown": 0.07, "world stress": 0.04}),
    }
    return Assessment(
        as_of=as_of,
        stress_index=stress,
        probability=prob,
        rules=rules,
        forecasts=forecasts,
        latest={"eq.us.spx": {"level": float(px.iloc[-1]), "drawdown": spx_dd},
                "cmd.wti": {"level": float(oil.iloc[-1]), "change_20d": wti_20d},
                "fx.usd_cny": {"level": USD_CNY[0]}},
        quality=[
            QualityFlag(series_id="eq.ru.imoex", flag="spike", date=date(2008, 10, 8),
                        detail="-14.4% in one session (744.76 to 637.87); kept, it is real"),
            QualityFlag(series_id="fx.usd_tjs", flag="stale", date=date(2008, 9, 19), detail="no quote for 15 days"),
        ],
        stale_series=["fx.usd_tjs"],
    )


def observations() -> pd.DataFrame:
    """Long frame of the real histories the store holds in these tests."""
    parts = []
    for sid, s in (("eq.us.spx", spx()), ("cmd.wti", wti())):
        parts.append(pd.DataFrame({"series_id": sid, "date": s.index, "value": s.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def alert_rows() -> list[dict]:
    """What the alerting engine's state machine would have written by the morning of 2008-10-10."""
    def row(rule: str, labels: dict, state: str, severity: str, value: float | None, threshold: float | None,
            starts: datetime | None, ends: datetime | None = None, summary: str = "") -> dict:
        from sco_monitor.assess.model import fingerprint

        return {
            "fingerprint": fingerprint(rule, labels), "rule": rule, "labels": labels, "state": state,
            "severity": severity, "value": value, "threshold": threshold, "summary": summary,
            "pending_count": 0, "starts_at": starts, "ends_at": ends, "updated_at": NOW,
            "last_eval_date": AS_OF,
        }

    d = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    return [
        row("equity_drawdown", {"category": "equity", "series": "eq.us.spx", "country": "USA"}, "firing", "critical",
            -0.4255, -0.20, d(2008, 9, 30, 2), summary="S&P 500 is 42.5% below its high"),
        row("equity_drawdown", {"category": "equity", "series": "eq.ru.imoex", "country": "RUS"}, "firing", "critical",
            IMOEX[0] / IMOEX[1] - 1, -0.20, d(2008, 10, 9, 20), summary="MOEX Russia is 64.4% below its high"),
        row("vix_level", {"category": "volatility", "series": "vol.vix", "country": "USA"}, "firing", "critical",
            VIX, 45.0, d(2008, 10, 7, 2)),
        row("fx_depreciation_20d", {"category": "fx", "series": "fx.usd_inr", "country": "IND"}, "firing", "warn",
            USD_INR[0] / USD_INR[1] - 1, 0.05, d(2008, 10, 9, 20), summary="USD/INR up 6.1% over 20 days"),
        row("credit_spread_level", {"category": "rates", "series": "spread.us.baa10y", "country": "USA"}, "pending",
            "warn", BAA10Y, 3.5, d(2008, 10, 9, 20)),
        row("fx_depreciation_20d", {"category": "fx", "series": "fx.usd_cny", "country": "CHN"}, "resolved", "warn",
            0.008, 0.05, d(2008, 9, 20, 2), d(2008, 10, 9, 12)),
        row("fx_depreciation_20d", {"category": "fx", "series": "fx.usd_kzt", "country": "KAZ"}, "resolved", "warn",
            0.01, 0.05, d(2008, 8, 1, 2), d(2008, 8, 20, 2)),  # resolved long ago: not in the report
        row("fx_depreciation_20d", {"category": "fx", "series": "fx.usd_tjs", "country": "TJK"}, "no_data", "warn",
            None, None, d(2008, 10, 1, 2)),
    ]


def silence_rows() -> list[dict]:
    """An analyst silenced the rupee alert for a week (Alertmanager-style matchers)."""
    return [
        {"id": "7d1c2c3e-0000-4000-8000-000000000001",
         "matchers": [{"name": "series", "value": "fx.usd_inr", "isRegex": False, "isEqual": True}],
         "starts_at": datetime(2008, 10, 9, 21, tzinfo=UTC), "ends_at": datetime(2008, 10, 16, 21, tzinfo=UTC),
         "created_by": "analyst", "comment": "RBI intervening; known", "created_at": datetime(2008, 10, 9, 21, tzinfo=UTC)},
        {"id": "7d1c2c3e-0000-4000-8000-000000000002", "matchers": {"rule": "vix_level"},
         "starts_at": datetime(2008, 9, 1, tzinfo=UTC), "ends_at": datetime(2008, 9, 8, tzinfo=UTC),
         "created_by": "analyst", "comment": "expired", "created_at": datetime(2008, 9, 1, tzinfo=UTC)},
    ]


def track_record() -> dict:
    """The shape the replay hands over (scores of past warnings)."""
    return {
        "period": {"from": "1999-01-04", "to": "2008-10-09"},
        "summary": {"episodes": 3, "warned": 2, "hit_rate": 0.667, "false_alarms": 4, "median_lead_days": 23},
        "episodes": [
            {"name": "dot-com bust", "start": "2000-09-01", "warned_at": "2000-08-03", "lead_days": 29, "outcome": "warned"},
            {"name": "9/11", "start": "2001-09-17", "warned_at": None, "lead_days": None, "outcome": "missed"},
            {"name": "global financial crisis", "start": "2008-09-15", "warned_at": "2008-08-18", "lead_days": 28,
             "outcome": "warned"},
        ],
    }


def seed(store, with_alerts: bool = True) -> None:  # noqa: ANN001 - a sco_monitor.store.Store
    """Fill a store as collection, assessment and alerting would have by the morning of as_of."""
    from sco_monitor.store import schema
    from sco_monitor.store.upsert import upsert

    store.upsert_observations(observations(), fetched_at=NOW - timedelta(hours=1))
    with store.engine.begin() as conn:
        upsert(conn, schema.stress_index, stress_rows())
        if with_alerts:
            upsert(conn, schema.alerts, alert_rows())
            upsert(conn, schema.silences, silence_rows())
