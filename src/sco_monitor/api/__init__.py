"""The HTTP API (/api/v1): read the assessment, alerts, reports and track record; write silences,
acknowledgements, notes and partner assessments. Every route needs a bearer token of a scope."""

from sco_monitor.api.app import create_app

__all__ = ["create_app"]
