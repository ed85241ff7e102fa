"""The report's "Economic cooperation" section: the member x member matrix, the intra-SCO index
and what the newest trade release changed. Pure: from the point-in-time trade frame of the inputs.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from sco_monitor import i18n
from sco_monitor.assess.cooperation import (
    intra_index,
    matrix,
    member_trade,
    trade_inputs,
    trade_pair,
)
from sco_monitor.catalog import SCO_MEMBERS
from sco_monitor.config import AppConfig
from sco_monitor.i18n import _
from sco_monitor.reports.model import CooperationRow, CooperationSection, Point
from sco_monitor.reports.numbers import country_name, finite

#: Months of the intra-trade index shown in the section's history.
HISTORY_MONTHS = 36


def _num(value: object) -> float | None:
    return finite(None if value is None or pd.isna(value) else float(value))  # type: ignore[arg-type]


def cooperation_section(config: AppConfig, trade: pd.DataFrame, prev: dict | None) -> CooperationSection:
    """The section, or its message when no bilateral trade is knowable at as_of."""
    series = list(config.series.values())
    alpha3 = {pair[0]: s.country for s in series if (pair := trade_pair(s)) is not None}
    if trade.empty or not alpha3:
        return CooperationSection(message=_("No bilateral trade between members is stored yet: "
                                            "collect the IMF DOT series (trade.*) to see the cooperation indices."))
    table, totals, frequency = trade_inputs(trade, series)
    if table.empty:
        return CooperationSection(message=_("No bilateral trade between members is knowable at this date "
                                            "(IMF DOT publishes about 90 days after the month)."))
    order = {c: i for i, c in enumerate(SCO_MEMBERS)}
    present = set(table["reporter"]) | set(table["partner"]) | set(totals.columns)
    members = sorted((m for m in alpha3 if m in present), key=lambda m: (order.get(alpha3[m], 99), m))
    period = table["period"].max()
    grid = matrix(table, members, period.date())
    group = intra_index(table, members, totals, frequency) if not totals.empty else pd.DataFrame()
    per = member_trade(table, members, totals if not totals.empty else None, frequency)
    at = per[per["period"] == period].set_index("member")
    rows = [CooperationRow(country=alpha3[m], country_name=country_name(alpha3[m]),
                           exports=_num(at.loc[m, "exports"]) if m in at.index else None,
                           imports=_num(at.loc[m, "imports"]) if m in at.index else None,
                           export_share=_num(at.loc[m, "export_share"]) if m in at.index else None,
                           exports_yoy=_num(at.loc[m, "exports_yoy"]) if m in at.index else None)
            for m in members]
    share = index = yoy_ = change = None
    history: list[Point] = []
    if len(group) and period in group.index:
        share, index, yoy_ = (_num(group.loc[period, c]) for c in ("share", "index", "intra_yoy"))
        before = group["share"].loc[: period - pd.Timedelta(days=1)].dropna()
        change = _num(share - before.iloc[-1]) if share is not None and len(before) else None
        hist = group["index"].dropna().iloc[-HISTORY_MONTHS:]
        history = [(d.date(), float(v)) for d, v in hist.items()]
    prev_period = _previous_period(prev)
    return CooperationSection(
        period=period.date(), previous_report_period=prev_period, members=[alpha3[m] for m in members],
        matrix=[[_num(v) for v in row] for row in grid.to_numpy()],
        intra_share=share, intra_share_change=change, index=index, intra_yoy=yoy_, history=history, rows=rows,
        changes=_changes(period.date(), prev_period, share, change, yoy_, rows),
    )


def _previous_period(prev: dict | None) -> date | None:
    got = ((prev or {}).get("cooperation") or {}).get("period")
    return date.fromisoformat(got) if got else None


def _changes(period: date, prev_period: date | None, share: float | None, change: float | None,
             growth: float | None, rows: list[CooperationRow]) -> list[str]:
    """The newest release in words: new or not since the previous report, the share's move, the biggest falls."""
    month = period.strftime("%Y-%m")
    out = []
    if prev_period is not None and prev_period == period:
        out.append(_("No new trade release since the previous report (latest month %(month)s).", month=month))
    elif prev_period is not None:
        out.append(_("New trade data since the previous report: %(month)s (the previous report showed %(before)s).",
                     month=month, before=prev_period.strftime("%Y-%m")))
    if share is not None and change is not None:
        out.append(_("Intra-SCO share of members' exports %(share)s in %(month)s, %(change)s pp on the month before.",
                     share=i18n.percent(share, 1), month=month, change=i18n.decimal(100 * change, 1, signed=True)))
    if growth is not None:
        out.append(_("Intra-SCO exports %(growth)s on a year earlier.", growth=i18n.percent(growth, 1, signed=True)))
    falls = sorted((r for r in rows if r.exports_yoy is not None and r.exports_yoy < 0), key=lambda r: r.exports_yoy or 0)
    for r in falls[:3]:
        out.append(_("%(name)s: exports to the other members %(growth)s on a year earlier.",
                     name=r.country_name, growth=i18n.percent(r.exports_yoy, 1, signed=True)))
    return out
