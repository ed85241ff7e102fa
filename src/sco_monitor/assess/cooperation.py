"""Economic-cooperation indices: intra-SCO trade and the co-movement of member markets.

Pure functions of bilateral trade flows (reporter, partner, period, value: the reporter's
exports to the partner, as IMF DOT `TXG_FOB_USD` reports them) and of member totals. A
member's imports from the others are read from the partners' exports to it (mirror flows),
so one export table gives both sides. Every statistic of period t uses only flows dated t and
earlier (year-on-year growth looks back, rebasing uses the first period), so the indices are
causal and can be computed point in time from what the store holds at as_of.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations

import numpy as np
import pandas as pd

from sco_monitor.catalog import Series

#: Observations per year, by the catalog's frequency codes (the year-on-year lag).
PER_YEAR: dict[str, int] = {"M": 12, "Q": 4, "A": 1}


@dataclass(frozen=True)
class Flow:
    """One bilateral flow: `reporter`'s exports to `partner` in the period ending `period`."""

    reporter: str
    partner: str
    period: date
    value: float


def flow_table(flows: Iterable[Flow]) -> pd.DataFrame:
    """Flows as a frame (reporter, partner, period, value), NaN values dropped, last duplicate kept."""
    rows = [(f.reporter, f.partner, pd.Timestamp(f.period), float(f.value)) for f in flows]
    frame = pd.DataFrame(rows, columns=["reporter", "partner", "period", "value"])
    frame = frame.dropna(subset=["value"])
    return frame.drop_duplicates(["reporter", "partner", "period"], keep="last").reset_index(drop=True)


def flows_from_series(values: dict[tuple[str, str], pd.Series]) -> list[Flow]:
    """(reporter, partner) → value series (as stored) into flows."""
    return [Flow(r, p, ts.date(), float(v)) for (r, p), s in values.items() for ts, v in s.dropna().items()]


def matrix(table: pd.DataFrame, members: Sequence[str], period: date) -> pd.DataFrame:
    """The member x member export matrix of one period (rows export to columns; NaN where unreported)."""
    at = table[(table["period"] == pd.Timestamp(period)) & table["reporter"].isin(members)
               & table["partner"].isin(members) & (table["reporter"] != table["partner"])]
    out = at.pivot_table(index="reporter", columns="partner", values="value", aggfunc="sum")
    return out.reindex(index=list(members), columns=list(members))


def yoy(values: pd.Series, frequency: str) -> pd.Series:
    """Growth on the same period a year earlier (by period, so month ends of leap years match)."""
    lag = PER_YEAR[frequency]
    by_period = values.copy()
    by_period.index = pd.DatetimeIndex(values.index).to_period({"M": "M", "Q": "Q", "A": "Y"}[frequency])
    earlier = by_period.reindex(by_period.index - lag).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = by_period.to_numpy() / earlier - 1.0
    growth[~np.isfinite(growth)] = np.nan
    return pd.Series(growth, index=values.index, name=values.name)


def member_trade(table: pd.DataFrame, members: Sequence[str], totals: pd.DataFrame | None,
                 frequency: str) -> pd.DataFrame:
    """Per member and period: exports to / imports from the other members, their shares and growth.

    `totals` (period x member, the member's exports to the world) gives the shares; without it
    the shares are NaN. Imports from members are mirror flows (the partners' exports to it),
    and their share is of the member's imports from the reporting members' total.
    Columns: member, period, exports, imports, export_share, exports_yoy, imports_yoy.
    """
    inside = table[table["reporter"].isin(members) & table["partner"].isin(members)
                   & (table["reporter"] != table["partner"])]
    exports = inside.pivot_table(index="period", columns="reporter", values="value", aggfunc="sum")
    imports = inside.pivot_table(index="period", columns="partner", values="value", aggfunc="sum")
    periods = exports.index.union(imports.index)
    out = []
    for m in members:
        x = exports[m].reindex(periods) if m in exports else pd.Series(np.nan, index=periods)
        i = imports[m].reindex(periods) if m in imports else pd.Series(np.nan, index=periods)
        total = totals[m].reindex(periods) if totals is not None and m in totals else pd.Series(np.nan, index=periods)
        out.append(pd.DataFrame({
            "member": m, "period": periods, "exports": x.to_numpy(), "imports": i.to_numpy(),
            "export_share": (x / total).to_numpy(), "exports_yoy": yoy(x, frequency).to_numpy(),
            "imports_yoy": yoy(i, frequency).to_numpy(),
        }))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def intra_index(table: pd.DataFrame, members: Sequence[str], totals: pd.DataFrame, frequency: str,
                base: date | None = None) -> pd.DataFrame:
    """The group-wide intra-trade index per period.

    share = members' exports to the other members / members' exports to the world, counting in
    each period only the reporters whose total is known (so a late reporter does not read as a
    collapse); `index` rebases the share to 100 at `base` (default: the first period);
    `intra_yoy` is the growth of intra-group exports on a year earlier.
    """
    inside = table[table["reporter"].isin(members) & table["partner"].isin(members)
                   & (table["reporter"] != table["partner"])]
    exports = inside.pivot_table(index="period", columns="reporter", values="value", aggfunc="sum")
    totals = totals.reindex(columns=[m for m in members if m in totals.columns])
    periods = exports.index.intersection(totals.index)
    exports = exports.reindex(index=periods, columns=totals.columns)
    known = totals.loc[periods].notna() & exports.notna()
    intra = exports.where(known).sum(axis=1, min_count=1)
    world = totals.loc[periods].where(known).sum(axis=1, min_count=1)
    share = intra / world
    first = share.dropna()
    anchor = first.loc[pd.Timestamp(base)] if base is not None else (first.iloc[0] if len(first) else np.nan)
    return pd.DataFrame({"intra": intra, "world": world, "share": share, "index": 100.0 * share / anchor,
                         "intra_yoy": yoy(intra, frequency), "reporters": known.sum(axis=1)})


def comovement(levels: pd.DataFrame, window: int, *, min_periods: int | None = None) -> pd.Series:
    """Causal rolling average pairwise correlation of the columns' log returns.

    A rise means member currencies (or markets) move together more: shocks travel. Each value
    uses the `window` returns up to its date only.
    """
    returns = np.log(levels.astype(float)).diff()
    cols = list(returns.columns)
    if len(cols) < 2:
        return pd.Series(np.nan, index=levels.index, name="comovement")
    mp = min_periods or max(3, window // 2)
    pairs = [returns[a].rolling(window, min_periods=mp).corr(returns[b]) for a, b in combinations(cols, 2)]
    return pd.concat(pairs, axis=1).mean(axis=1, skipna=True).rename("comovement")


# --- the indices as series of the catalog ------------------------------------------------------------------

#: The source name of series computed in the assessment from other stored series.
DERIVED = "derived"
#: The index a derived cooperation series carries (`params: {index: ..., member: KZ}`).
GROUP_INDICES = ("intra_trade_share", "intra_trade_index", "intra_exports_yoy")
#: Co-movement indices: `params: {index: fx_comovement, window: 60}` over the members' series of that kind.
COMOVEMENT_INDICES = {"fx_comovement": "fx", "equity_comovement": "equity"}
MEMBER_INDICES = ("sco_exports", "sco_imports", "sco_export_share", "sco_exports_yoy", "sco_imports_yoy")
_MEMBER_COLUMN = {"sco_exports": "exports", "sco_imports": "imports", "sco_export_share": "export_share",
                  "sco_exports_yoy": "exports_yoy", "sco_imports_yoy": "imports_yoy"}
_GROUP_COLUMN = {"intra_trade_share": "share", "intra_trade_index": "index", "intra_exports_yoy": "intra_yoy"}
WORLD_AREA = "W00"


def _pair(s: Series) -> tuple[str, str] | None:
    dims = (s.params or {}).get("dimensions") or {}
    ref, cp = dims.get("REF_AREA") or [], dims.get("COUNTERPART_AREA") or []
    if s.source != "dbnomics" or len(cp) != 1 or (s.params or {}).get("dataset") != "DOT":
        return None
    reporter = s.symbol.split(".")[1] if s.symbol.count(".") >= 3 else (ref[0] if len(ref) == 1 else None)
    return (reporter, cp[0]) if reporter else None


def trade_pair(s: Series) -> tuple[str, str] | None:
    """(reporter, partner) IMF codes of an IMF DOT export series (partner W00 = the world), else None."""
    pair = _pair(s)
    return pair if pair is not None and "TXG_FOB_USD" in s.symbol else None


def is_trade_series(s: Series) -> bool:
    return trade_pair(s) is not None


def trade_inputs(frame: pd.DataFrame, series: Iterable[Series]) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The bilateral flow table and the world totals (period x member) the frame holds, and their frequency.

    Bilateral series are IMF DOT exports via DBnomics (`M.<reporter>.TXG_FOB_USD.<partner>`);
    a partner `W00` is the reporter's total. Values NaN in the frame (not yet published at
    as_of) are left out, so the table is point in time when the frame is.
    """
    pairs: dict[tuple[str, str], pd.Series] = {}
    totals: dict[str, pd.Series] = {}
    freqs = set()
    for s in series:
        pair = trade_pair(s)
        if pair is None or s.id not in frame.columns:
            continue
        values = frame[s.id].dropna()
        freqs.add(s.frequency)
        if pair[1] == WORLD_AREA:
            totals[pair[0]] = values
        else:
            pairs[pair] = values
    frequency = freqs.pop() if len(freqs) == 1 else "M"
    return flow_table(flows_from_series(pairs)), pd.DataFrame(totals), frequency


def derive(frame: pd.DataFrame, series: Iterable[Series]) -> pd.DataFrame:
    """The frame with every `derived` cooperation series computed from the bilateral columns it holds.

    Pure and point in time: computed from the frame as given (the caller has already hidden
    values inside their publication lag). Members are the reporters of the bilateral series.
    """
    series = list(series)
    out = _with_comovement(frame, series)
    wanted = [s for s in series if s.source == DERIVED and (s.params or {}).get("index") in GROUP_INDICES + MEMBER_INDICES]
    if not wanted:
        return out
    frame = out
    table, totals, frequency = trade_inputs(frame, series)
    out = frame.copy()
    if table.empty:
        for s in wanted:
            out[s.id] = np.nan
        return out
    members = sorted(set(table["reporter"]) | set(totals.columns))
    group = intra_index(table, members, totals, frequency) if not totals.empty else pd.DataFrame()
    per_member = member_trade(table, members, totals if not totals.empty else None, frequency)
    for s in wanted:
        index = s.params["index"]
        if index in GROUP_INDICES:
            col = group[_GROUP_COLUMN[index]] if len(group) else pd.Series(dtype=float)
        else:
            rows = per_member[per_member["member"] == s.params.get("member")]
            col = rows.set_index("period")[_MEMBER_COLUMN[index]]
        out[s.id] = col.reindex(out.index.union(col.index)).reindex(out.index) if len(col) else np.nan
        missing = col.index.difference(out.index)
        if len(missing):  # periods no other column holds: add the rows
            out = out.reindex(out.index.union(missing))
            out.loc[missing, s.id] = col.loc[missing]
    return out.sort_index()


def _with_comovement(frame: pd.DataFrame, series: list[Series]) -> pd.DataFrame:
    """Add the co-movement series: members' (tag sco, not alternative) daily series of the kind, causal window."""
    wanted = [s for s in series if s.source == DERIVED and (s.params or {}).get("index") in COMOVEMENT_INDICES]
    if not wanted:
        return frame
    out = frame.copy()
    for s in wanted:
        kind = COMOVEMENT_INDICES[s.params["index"]]
        cols = [m.id for m in series if m.kind == kind and "sco" in m.tags and "alternative" not in m.tags
                and m.country != "WLD" and m.frequency in ("B", "D") and m.id in frame.columns]
        levels = frame[cols].dropna(how="all").ffill(limit=3)
        window = int(s.params.get("window", 60))
        out[s.id] = comovement(levels, window).reindex(out.index) if len(cols) >= 2 else np.nan
    return out
