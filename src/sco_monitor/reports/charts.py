"""Charts as inline SVG strings (matplotlib, Agg, text kept as text): pure, no files, no pyplot."""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from babel.dates import format_date  # noqa: E402
from markupsafe import escape  # noqa: E402
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from sco_monitor import i18n  # noqa: E402

from sco_monitor.reports.model import ForecastItem, Point, ScopeStress  # noqa: E402
from sco_monitor.reports.numbers import LEVELS, fmt_number  # noqa: E402

# Text is kept as text in the SVG and drawn by the reader's browser, which has the fonts; matplotlib
# measures it with what it has and would warn once per CJK glyph where no CJK font is installed.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)

#: Traffic-light colours of the stress levels and rule severities; the CSS uses the same ones.
LEVEL_COLORS: dict[str, str] = {
    "low": "#1a9850",
    "moderate": "#91cf60",
    "elevated": "#fdd835",
    "high": "#f46d43",
    "severe": "#a50026",
    "unknown": "#9e9e9e",
}
SEVERITY_COLORS: dict[str, str] = {
    "ok": "#1a9850",
    "warn": "#f9a825",
    "critical": "#d32f2f",
    "no_data": "#9e9e9e",
    "none": "#e0e0e0",
}
SEGMENT_COLORS: dict[str, str] = {
    "equity": "#3f51b5",
    "fx": "#00897b",
    "money": "#5e35b1",
    "rates": "#8e24aa",
    "commodities": "#ef6c00",
    "volatility": "#c62828",
    "macro": "#6d4c41",
}
INK = "#1f2937"
MUTED = "#6b7280"

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "sco-monitor",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "path.simplify": True,
}
_ID = re.compile(r'\bid="([^"]+)"')
#: Fonts first in line per language: matplotlib measures text with the first font only.
_FONTS = {"zh": ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei"]}


def _rc() -> dict:
    """The chart style; Chinese charts are measured with a CJK font (the SVG names it for the browser too)."""
    fonts = _FONTS.get(i18n.current())
    return _RC | {"font.sans-serif": fonts + _RC["font.sans-serif"]} if fonts else _RC


def _svg(fig: Figure, key: str) -> str:
    """The figure as an <svg> element: no XML prolog, scales to its container, ids unique per chart."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1 width="100%" role="img"', text, count=1)
    slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    for old in set(_ID.findall(text)):
        new = f"{slug}-{old}"
        text = text.replace(f'id="{old}"', f'id="{new}"').replace(f"#{old})", f"#{new})").replace(f'"#{old}"', f'"#{new}"')
    return text


def _figure(width: float, height: float) -> Figure:
    """Call inside `matplotlib.rc_context(_rc())`, like everything that draws."""
    return Figure(figsize=(width, height), dpi=72)


_CANVASES = threading.local()  # each thread its own figures: a figure is drawn by one thread at a time


def _canvas(kind: str, width: float, height: float, rect: tuple[float, float, float, float]) -> tuple[Figure, Axes]:
    """A figure with one axes at `rect`, wiped clean: the same SVG as a new one for about two thirds
    of the cost, since building an axes and its ticks is much of what a small chart costs, and a
    report draws its charts at a few fixed sizes. Reused per chart kind (whatever else a kind sets on
    its axes it sets the same way every time), size and style (artists take the fonts and colours in
    force when they are made); call inside `matplotlib.rc_context(_rc())`."""
    pool: dict[tuple, tuple[Figure, Axes]] = _CANVASES.__dict__.setdefault("pool", {})
    key = (kind, width, height, rect, str(dict.items(matplotlib.rcParams)))
    if key not in pool:
        if len(pool) >= 32:  # a few kinds and sizes x languages; more means the style keeps changing
            pool.clear()
        fig = _figure(width, height)
        pool[key] = (fig, fig.add_axes(rect))
        return pool[key]
    fig, ax = pool[key]
    _wipe(fig, ax)
    return fig, ax


def _wipe(fig: Figure, ax: Axes) -> None:
    """Back to a new figure's state: no artists, no data limits, default limits, locators and grid."""
    for artist in [*fig.texts, *ax.lines, *ax.patches, *ax.texts, *ax.collections, *ax.images, *ax.artists]:
        artist.remove()
    fig.patches.clear()  # patches are appended to it directly (see segments_chart): they have no remove()
    ax.containers.clear()
    ax.dataLim.set_points(Bbox.null().get_points())
    ax.ignore_existing_data_limits = True
    ax.set_xscale("linear")  # the default locators and formatters
    ax.set_yscale("linear")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_autoscale_on(True)
    ax.grid(False)


def _title(fig: Figure, text: str, color: str = INK) -> None:
    """A figure-level title: cheaper than an axes title, which re-measures the tick labels."""
    fig.text(0.012, 0.975, text, ha="left", va="top", fontsize=10, fontweight="bold", color=color)


def _date_axis(ax, first: date, last: date, max_ticks: int = 6) -> None:  # noqa: ANN001 - matplotlib Axes
    """Explicit month or year ticks: the automatic date locators cost more than the rest of a chart."""
    span = (last - first).days
    if span > 3 * 365:
        years = pd.date_range(f"{first.year + 1}-01-01", last, freq="YS")
        step = max(1, -(-len(years) // max_ticks))
        ticks, labels = years[::step], [str(d.year) for d in years[::step]]
    else:
        months = pd.date_range(pd.Timestamp(first).replace(day=1) + pd.offsets.MonthBegin(1), last, freq="MS")
        step = max(1, -(-len(months) // max_ticks))
        ticks = months[::step]
        labels = [format_date(d, "LLL", locale=i18n.locale()) + (f"\n{d.year}" if d.month <= step or i == 0 else "")
                  for i, d in enumerate(ticks)]
    ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(ticks.to_pydatetime()) if len(ticks) else []))
    ax.xaxis.set_major_formatter(FixedFormatter(labels))
    ax.set_xlim(mdates.date2num(first), mdates.date2num(last))


def _bands(ax, thresholds: dict[str, float], top: float) -> None:  # noqa: ANN001 - matplotlib Axes
    bounds = sorted(((v, k) for k, v in thresholds.items() if k in LEVELS), key=lambda x: x[0])
    for i, (lo, name) in enumerate(bounds):
        hi = bounds[i + 1][0] if i + 1 < len(bounds) else top
        ax.axhspan(lo, hi, color=LEVEL_COLORS[name], alpha=0.16, lw=0, zorder=0)
        ax.text(1.005, (lo + min(hi, top)) / 2, i18n.level_name(name), transform=ax.get_yaxis_transform(), va="center",
                ha="left", fontsize=7.5, color=MUTED, clip_on=False)


def _x(days: Sequence[date]) -> np.ndarray:
    return mdates.date2num(np.asarray(days, dtype="datetime64[D]"))


def stress_chart(points: Sequence[Point], thresholds: dict[str, float], title: str, key: str) -> str:
    """The stress index over time on its level bands, the latest value marked."""
    with matplotlib.rc_context(_rc()):
        fig, ax = _canvas("stress", 7.6, 2.7, (0.07, 0.17, 0.82, 0.69))
        _title(fig, title)
        ys = [p[1] for p in points]
        top = max([*ys, *thresholds.values(), 1e-9]) * 1.08 if (ys or thresholds) else 1.0
        bottom = min(0.0, *ys) if ys else 0.0
        _bands(ax, thresholds, top)
        if points:
            xs = _x([p[0] for p in points])
            ax.plot(xs, ys, color=INK, lw=1.3)
            ax.plot(xs[-1:], ys[-1:], "o", color=INK, ms=4)
            ax.annotate(f"{ys[-1]:.2f}", (xs[-1], ys[-1]), xytext=(-4, 6), textcoords="offset points",
                        ha="right", fontsize=8.5, fontweight="bold", color=INK)
            if points[-1][0] > points[0][0]:
                _date_axis(ax, points[0][0], points[-1][0], max_ticks=8)
        ax.set_ylim(bottom, top)
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.grid(axis="y", color="#e5e7eb", lw=0.6)
        return _svg(fig, key)


def segments_chart(scopes: Sequence[ScopeStress], key: str = "segments") -> str:
    """Contribution of each segment to each scope's index, as stacked bars."""
    rows = [s for s in scopes if s.segments][::-1]
    height = 0.75 + 0.26 * max(len(rows), 1)
    with matplotlib.rc_context(_rc()):
        fig, ax = _canvas("segments", 7.6, height, (0.16, 0.3 / height, 0.82, 1 - 0.72 / height))
        ys = np.arange(len(rows))
        left = np.zeros(len(rows))
        used = []
        for seg, color in SEGMENT_COLORS.items():
            widths = np.array([max(s.segments.get(seg, 0.0), 0.0) for s in rows])
            if widths.any():
                ax.barh(ys, widths, left=left, color=color, height=0.62)
                left += widths
                used.append(seg)
        x = 0.16
        for seg in used:  # a hand-placed legend: a legend box re-measures every entry
            fig.patches.append(Rectangle((x, 1 - 0.27 / height), 0.012, 0.11 / height, transform=fig.transFigure,
                                         facecolor=SEGMENT_COLORS[seg], edgecolor="none"))
            fig.text(x + 0.017, 1 - 0.22 / height, i18n.segment_name(seg), fontsize=8, va="center", color=INK)
            x += 0.03 + 0.0105 * len(seg)
        ax.set_yticks(ys, [s.name for s in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#e5e7eb", lw=0.6)
        ax.set_axisbelow(True)
        return _svg(fig, key)


def fan_chart(item: ForecastItem, as_of: date) -> str:
    """Recent history, the forecast mean and its interval, the rule threshold; unfavourable in red."""
    accent = SEVERITY_COLORS["critical"] if item.unfavourable else "#2563eb"
    with matplotlib.rc_context(_rc()):
        fig, ax = _canvas("fan", 4.6, 2.6, (0.15, 0.16, 0.82, 0.71))
        _title(fig, item.name + ("  · " + i18n.gettext("unfavourable") if item.unfavourable else ""), accent if item.unfavourable else INK)
        first = last = as_of
        if item.history:
            ax.plot(_x([p[0] for p in item.history]), [p[1] for p in item.history], color=INK, lw=1.1)
            first = item.history[0][0]
        path = [(d, m, lo, hi) for d, m, lo, hi in zip(item.dates, item.mean, item.lower, item.upper)
                if m is not None and lo is not None and hi is not None]
        if path:
            if item.history and item.history[-1][0] < path[0][0]:  # join the fan to the last observation
                d0, v0 = item.history[-1]
                path = [(d0, v0, v0, v0), *path]
            xs = _x([p[0] for p in path])
            ax.fill_between(xs, [p[2] for p in path], [p[3] for p in path], color=accent, alpha=0.2, lw=0)
            ax.plot(xs, [p[1] for p in path], color=accent, lw=1.4, ls="--")
            first, last = min(first, path[0][0]), path[-1][0]
        if item.threshold is not None:
            ax.axhline(item.threshold, color=SEVERITY_COLORS["critical"], lw=1, ls=":")
            ax.annotate(i18n.gettext("threshold %(value)s", value=fmt_number(item.threshold)), (0.01, item.threshold),
                        xycoords=("axes fraction", "data"), xytext=(0, 3), textcoords="offset points",
                        fontsize=7.5, color=SEVERITY_COLORS["critical"])
        ax.axvline(mdates.date2num(as_of), color="#9ca3af", lw=0.8)
        if last > first:
            _date_axis(ax, first, last, max_ticks=5)
        ax.yaxis.set_major_locator(MaxNLocator(4))
        ax.grid(axis="y", color="#e5e7eb", lw=0.6)
        return _svg(fig, f"fan-{item.series_id}-{item.model}")


def sparkline(points: Sequence[Point], level: str | None, width: int = 120, height: int = 26) -> str:
    """A tiny line of the last year of a country's stress index (hand-drawn: a polyline is enough)."""
    ys = [p[1] for p in points]
    if len(ys) < 2:
        return ""
    lo, hi = min(ys), max(ys)
    span = (hi - lo) or 1.0
    step = (width - 4) / (len(ys) - 1)
    coords = [(2 + i * step, height - 3 - (y - lo) / span * (height - 6)) for i, y in enumerate(ys)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    x, y = coords[-1]
    color = LEVEL_COLORS.get(level or "unknown", LEVEL_COLORS["unknown"])
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(i18n.gettext("stress index, last year"))}"><polyline fill="none" stroke="{INK}" stroke-width="1.2" '
        f'points="{line}"/><circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{color}" stroke="{INK}" '
        f'stroke-width="0.6"/></svg>'
    )


def trade_heatmap(members: Sequence[str], matrix: Sequence[Sequence[float | None]], title: str,
                  key: str = "coop-matrix") -> str:
    """The member x member export matrix as a heat map (log colour scale: flows span four orders)."""
    values = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix], dtype=float)
    n = len(members)
    with matplotlib.rc_context(_rc()):
        fig = _figure(1.6 + 0.55 * n, 1.2 + 0.5 * n)
        ax = fig.add_axes((0.16, 0.08, 0.72, 0.74))
        shown = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
        im = ax.imshow(np.ma.masked_invalid(shown), cmap="YlGnBu", aspect="auto")
        for i in range(n):
            for j in range(n):
                v = values[i, j]
                if np.isfinite(v):
                    dark = np.isfinite(shown[i, j]) and shown[i, j] > np.nanmean(shown)
                    ax.text(j, i, fmt_number(v, 3), ha="center", va="center", fontsize=7,
                            color="white" if dark else INK)
        ax.set_xticks(range(n), list(members))
        ax.set_yticks(range(n), list(members))
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        cbar = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
        cbar.set_label(i18n.gettext("log10 million USD"), fontsize=7)
        _title(fig, title)
        return _svg(fig, key)
