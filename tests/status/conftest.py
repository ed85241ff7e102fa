"""The daemon, webhook and SMTP fixtures of the daemon and alerting tests, reused here."""

from ..alerting.conftest import hook, smtp  # noqa: F401 - fixtures
from ..daemon.conftest import start_daemon  # noqa: F401 - fixture
