"""The track-record chart: warnings against episodes, one row per country, as inline SVG."""

from __future__ import annotations

import io
from datetime import date, timedelta

import matplotlib
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.dates import date2num
from matplotlib.figure import Figure  # no pyplot: no global backend, safe in threads

from sco_monitor.replay.score import TrackRecord

COLORS = {"episode": "#b0b0b0", "warn": "#f0a020", "critical": "#d03020"}
_SPANS = {"episode": "episodes", "warn": "warn", "critical": "critical"}  # the timeline's field of each kind
_BAND = {"episode": (0.4, 0.8), "warn": (0.22, 0.44), "critical": (0.22, 0.44)}  # below the row's centre, height


def _bars(spans: list[tuple[date, date | None]], last: date) -> list[tuple[float, float]]:
    out = []
    for a, b in spans:
        b = b or last
        out.append((date2num(a), max(date2num(b + timedelta(days=1)) - date2num(a), 1.0)))
    return out


def track_chart_svg(track: TrackRecord) -> str:
    """SVG text (no external assets): grey = episode, orange = warning firing, red = critical."""
    rows = [c for c, tl in track.timeline.items() if tl.episodes or tl.warn or tl.critical]
    height = 0.9 + 0.42 * max(len(rows), 1)
    fig = Figure(figsize=(9.0, height), dpi=96)
    ax = fig.add_subplot()
    # one collection per kind for all rows (rows never overlap; within a row episodes lie under
    # warnings under critical alerts), not three per country: a chart drawn for every report
    for kind, (below, tall) in _BAND.items():
        boxes = [[(x0, y0), (x0, y0 + tall), (x0 + dx, y0 + tall), (x0 + dx, y0)]
                 for i, country in enumerate(reversed(rows)) for y0 in (i - below,)
                 for x0, dx in _bars(getattr(track.timeline[country], _SPANS[kind]), track.end)]
        if boxes:
            ax.add_collection(PolyCollection(np.array(boxes), facecolors=COLORS[kind]))
    ax.set_yticks(range(len(rows)), list(reversed(rows)))
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax.set_xlim(date2num(track.start), date2num(track.end + timedelta(days=1)))
    ax.xaxis_date()
    ax.set_title("Warnings against crisis episodes (grey: episode, orange: warning, red: critical)", fontsize=9)
    ax.tick_params(labelsize=8)
    # fixed margins in inches (tight_layout would double the cost of a chart drawn for every report)
    fig.subplots_adjust(left=0.6 / 9.0, right=0.985, bottom=0.38 / height, top=1 - 0.3 / height)
    buf = io.StringIO()
    # text stays text (small and searchable); the clip-path ids from a fixed salt, so the same record
    # draws the same SVG (matplotlib's default salt is random per process)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "sco-monitor-track"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]
