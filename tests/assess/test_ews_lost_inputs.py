"""The early-warning option `lost_inputs`: a day without a feature its scope had before is scored by
the model refitted without it (a discontinued input is not read as "no signal")."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from sco_monitor.assess import ews

P = ews.EwsParams(horizon=20, min_obs=50, quiet=100, post_crisis=30, lost_inputs=True)


def _feats() -> tuple[dict[str, pd.DataFrame], dict[str, list[pd.Timestamp]], pd.DatetimeIndex]:
    """Three scopes with two informative signals; RUS loses seg_money from day 1200, CHN never had it."""
    rng = np.random.default_rng(4)
    idx = pd.bdate_range("2010-01-01", periods=1500)
    feats, onsets = {}, {}
    for k, scope in enumerate(("RUS", "IND", "CHN")):
        days = [300 + 40 * k, 700 + 40 * k, 1100 + 40 * k]
        cols = {}
        for name in ("seg_fx", "seg_money"):
            x = rng.uniform(0, 0.7, len(idx))
            for o in days:
                x[o - P.horizon: o] = np.where(rng.uniform(size=P.horizon) < 0.6, 0.95, 0.3)
            x[rng.choice(len(idx), 40, replace=False)] = 0.99
            cols[name] = x
        f = pd.DataFrame(cols, index=idx)
        if scope == "RUS":
            f.loc[idx[1200]:, "seg_money"] = np.nan
        if scope == "CHN":
            f["seg_money"] = np.nan
        feats[scope], onsets[scope] = f, [idx[o] for o in days]
    return feats, onsets, idx


def test_a_scope_that_lost_an_input_is_scored_by_the_model_refitted_without_it() -> None:
    feats, onsets, idx = _feats()
    win = ews.EwsWindow(feats, onsets, ["RUS", "IND", "CHN"], P)
    fit_at = idx[1300]
    full = win.model(fit_at)
    assert {"seg_fx", "seg_money"} <= set(full.thresholds)
    without = ews.fit({k: f.assign(seg_money=np.nan) for k, f in feats.items()}, onsets, fit_at, P)
    assert "seg_money" not in without.thresholds and without.params != full.params
    block = idx[1300:1340]
    rus, cut = win.scores(fit_at, "RUS", feats["RUS"].reindex(block))
    np.testing.assert_allclose(rus, without.probabilities(feats["RUS"].reindex(block), "RUS"))
    assert (cut == without.cutoff).all()
    # the day's assessment says the same, and names the refitted model's cut-off
    day = win.at(idx[1310], fit_at).probability["RUS"]
    assert day.probability == rus[10] and day.cutoff == without.cutoff
    # a scope that has both, and one that never had seg_money, keep the pooled model
    for scope in ("IND", "CHN"):
        p, c = win.scores(fit_at, scope, feats[scope].reindex(block))
        np.testing.assert_allclose(p, full.probabilities(feats[scope].reindex(block), scope))
        assert (c == full.cutoff).all()
    # before the loss RUS is scored by the pooled model too; without the option always
    early = idx[1000:1040]
    p, _ = win.scores(idx[1000], "RUS", feats["RUS"].reindex(early))
    np.testing.assert_allclose(p, win.model(idx[1000]).probabilities(feats["RUS"].reindex(early), "RUS"))
    off = ews.EwsWindow(feats, onsets, ["RUS", "IND", "CHN"], dataclasses.replace(P, lost_inputs=False))
    p, _ = off.scores(fit_at, "RUS", feats["RUS"].reindex(block))
    np.testing.assert_allclose(p, full.probabilities(feats["RUS"].reindex(block), "RUS"))
