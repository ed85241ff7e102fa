"""Token scopes. They are hierarchical: each scope includes every scope before it.

read      read everything the API serves (assessments, history, alerts, reports, track record, data)
partner   read, and post partner assessments (a partner centre's own view)
operator  partner, and write silences, acknowledgements of alerts and analyst notes
admin     operator, and read the audit log and the list of tokens
"""

from __future__ import annotations

from typing import Literal

Scope = Literal["read", "partner", "operator", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "partner", "operator", "admin")


def allows(have: str, need: str) -> bool:
    """Does a token of scope `have` pass a route that needs `need`?"""
    return have in SCOPES and SCOPES.index(have) >= SCOPES.index(need)  # type: ignore[arg-type]
