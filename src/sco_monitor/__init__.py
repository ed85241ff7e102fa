"""sco-monitor: financial-market monitoring and early warning for the SCO member economies."""

__version__ = "0.1.0"
