"""Errors the CLI turns into one line on stderr and an exit code."""

from __future__ import annotations


class UsageError(Exception):
    """Bad arguments or an impossible request: exit code 2."""


class RunFailed(Exception):
    """The run finished but failed wholly or partly: exit code 1."""
