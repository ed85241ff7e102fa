"""Replay and track record: the daily cycle over past dates on a simulated clock (`driver`), and how
its warnings fared against crisis episodes (`episodes`, `score`, `track`, `chart`)."""
