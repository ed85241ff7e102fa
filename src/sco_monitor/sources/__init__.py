"""Data sources. Built-ins register lazily so the CLI does not import yfinance to print --help."""

from sco_monitor.registry import Registry

registry: Registry = Registry("source")

for _name in ("yahoo", "fred", "worldbank", "ecb", "csv", "dbnomics", "bis_csv",
              "cbr", "nbk", "nbrb", "cbu", "nbkr", "nbt", "moex", "derived"):
    registry.register_lazy(_name, f"sco_monitor.sources.{_name}:Source")
for _name, _cls in (("sdmx", "SdmxSource"), ("bis", "BisSource"), ("imf", "ImfSource"),
                    ("ecb_sdmx", "EcbSdmxSource"), ("oecd", "OecdSource")):
    registry.register_lazy(_name, f"sco_monitor.sources.sdmx_rest:{_cls}")
registry.register_lazy("cbr_key_rate", "sco_monitor.sources.cbr:KeyRateSource")
