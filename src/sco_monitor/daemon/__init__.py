"""The daemon: the cycle's steps on cron schedules, one active instance per store, health and metrics.

Cron syntax lives with the config types (`config.cron`); the daemon builds its triggers from there.
"""
