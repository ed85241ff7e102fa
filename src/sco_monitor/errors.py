"""Errors the CLI turns into one line on stderr and an exit code."""

from __future__ import annotations


class UsageError(Exception):
    """Bad arguments or an impossible request: exit code 2."""


class NotAvailable(UsageError):
    """A command whose feature has not landed yet."""

    def __init__(self, command: str, issue: int, what: str) -> None:
        super().__init__(f"'sco-monitor {command}' is not available yet: it arrives with issue #{issue} ({what})")


class RunFailed(Exception):
    """The run finished but failed wholly or partly: exit code 1."""
