"""arch's linear parameter constraints handed to SLSQP with their Jacobians.

arch (8.0) gives scipy's SLSQP each constraint a·p - b >= 0 as a function alone, so SLSQP
differentiates every one numerically at every step: a fifth of a warm GARCH(1,1)-t estimation's
time (measured on the replay benchmark's 20 series a month after an optimum: 0.88-0.98 s against
0.72-0.74 s of CPU for the 20). The Jacobian of a linear constraint is its row a, exactly what the
differences approximate, so the estimates are bitwise arch's own (a test checks it). Installed
once, around arch's own `constraint`, when the GARCH models load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import arch.univariate.base as arch_base
import numpy as np


def _row(a: np.ndarray) -> Callable[..., np.ndarray]:
    return lambda params, *args: a


def _with_jacobians(original: Callable[[np.ndarray, np.ndarray], list[dict[str, Any]]]) -> Any:
    def constraint(a: np.ndarray, b: np.ndarray) -> list[dict[str, Any]]:
        made = original(a, b)
        for con, row in zip(made, np.array(a, dtype=float), strict=True):
            con.setdefault("jac", _row(row))
        return made

    constraint.__wrapped__ = original  # type: ignore[attr-defined]
    return constraint


def install() -> None:
    """Wrap arch's `constraint` once (idempotent)."""
    if not hasattr(arch_base.constraint, "__wrapped__"):
        arch_base.constraint = _with_jacobians(arch_base.constraint)
