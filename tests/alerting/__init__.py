"""Tests of the alerting package (mirrors src/sco_monitor/alerting/)."""
