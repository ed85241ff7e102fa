"""The daemon: the cycle's steps on cron schedules, one active instance per store, health and metrics.

Kept import-light: the config loader imports `daemon.cron` and `daemon.jobs` to validate schedules.
"""
