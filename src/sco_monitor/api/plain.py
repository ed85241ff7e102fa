"""JSON for API answers: `vocabulary.json_safe`, except that instants (created_at, ends_at...)
stay instants in ISO 8601 with their offset; json_safe keeps only the day, as the stores keep dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from sco_monitor.vocabulary import json_safe


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime) and not isinstance(value, pd.Timestamp):
        return value.isoformat()
    return json_safe(value)
