"""Imported once by the workers' forkserver, so a job run costs a fork and not the imports.

The cycle (and through it the engine) is imported if it can be; a module that fails to import
here fails in the run that needs it, with its own error recorded in `job_runs`, instead of
taking the forkserver down with it.
"""

from __future__ import annotations

import sco_monitor.daemon.worker  # the worker entry point

try:
    import sco_monitor.cycle  # noqa: F401
except Exception:  # noqa: BLE001, S110 - see the docstring
    pass
