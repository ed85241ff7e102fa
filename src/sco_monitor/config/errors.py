"""Config errors that name the file, the path inside it and what was expected."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class ConfigError(Exception):
    """A configuration problem a user can fix; the CLI prints it on one line and exits 2."""

    def __init__(self, file: str | Path | None, path: str, message: str) -> None:
        self.file = str(file) if file is not None else None
        self.path = path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = Path(self.file).name if self.file else "config"
        loc = f"{where}: {self.path}" if self.path else where
        return f"{loc}: {self.message}"


def format_loc(loc: tuple[int | str, ...]) -> str:
    """('series', 12, 'frequency') → 'series[12].frequency'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def from_validation(file: str | Path | None, err: ValidationError, prefix: str = "") -> ConfigError:
    """The first pydantic error as a ConfigError; the rest are counted, not hidden."""
    errors = err.errors(include_url=False)
    first = errors[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p and p.startswith(("function", "tagged"))))
    path = format_loc(loc)
    if prefix:
        path = f"{prefix}.{path}" if path and not path.startswith("[") else f"{prefix}{path}"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "missing":
        msg = "required key is missing"
    if "input" in first and first["type"] not in ("missing", "extra_forbidden"):
        shown = repr(first["input"])
        if len(shown) <= 60:
            msg = f"{msg} (got {shown})"
    if len(errors) > 1:
        msg += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return ConfigError(file, path, msg)
