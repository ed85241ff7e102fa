"""Tables of the store (SQLAlchemy Core). One metadata; `Store.init` creates what is missing."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,

    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sco_monitor.store.types import UtcDateTime

metadata = MetaData()

# --- catalog and observations -------------------------------------------------------------
series = Table(
    "series",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("source", String(32), nullable=False),
    Column("symbol", Text, nullable=False, default=""),
    Column("kind", String(16), nullable=False),
    Column("country", String(3), nullable=False),
    Column("frequency", String(1), nullable=False),
    Column("unit", Text, nullable=False),
    Column("direction", String(8), nullable=False),
    Column("publication_lag_days", Integer, nullable=False, default=0),
    Column("params", JSON, nullable=False, default=dict),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

observations = Table(
    "observations",
    metadata,
    Column("series_id", String(128), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("value", Float, nullable=True),
    Column("fetched_at", UtcDateTime(), nullable=False),
)

quality_flags = Table(
    "quality_flags",
    metadata,
    Column("series_id", String(128), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("flag", String(32), primary_key=True),
    Column("detail", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
)

collection_runs = Table(
    "collection_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("source", String(32), nullable=False),
    Column("series_id", String(128), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("status", String(16), nullable=False),  # ok | empty | failed
    Column("rows", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=1),
    Column("error", Text, nullable=True),
    Index("ix_collection_runs_series", "series_id", "started_at"),
)

# --- assessment -------------------------------------------------------------------------------
indicator_values = Table(
    "indicator_values",
    metadata,
    Column("series_id", String(128), primary_key=True),
    Column("indicator", String(64), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("value", Float, nullable=True),
)

forecasts = Table(
    "forecasts",
    metadata,
    Column("series_id", String(128), primary_key=True),
    Column("model", String(64), primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("target_date", Date, nullable=False),
    Column("mean", Float, nullable=True),
    Column("lower", Float, nullable=True),
    Column("upper", Float, nullable=True),
    Column("level", Float, nullable=False, default=0.9),
)

model_states = Table(
    "model_states",
    metadata,
    Column("series_id", String(128), primary_key=True),
    Column("model", String(64), primary_key=True),  # the slot: level | volatility | regime
    Column("family", String(32), nullable=False),  # forecaster registry name: arima, ets, rw, garch, ewma, regime
    Column("spec", JSON, nullable=False, default=dict),
    Column("fitted_at", Date, nullable=False),
    Column("last_date", Date, nullable=False),
    Column("nobs", Integer, nullable=False, default=0),
    Column("params", JSON, nullable=False, default=dict),
    Column("state", LargeBinary, nullable=True),  # compact filter state: named float64 arrays, never a pickle
    Column("metrics", JSON, nullable=False, default=dict),
    Column("updated_at", UtcDateTime(), nullable=False),
)

rule_evaluations = Table(
    "rule_evaluations",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("rule", String(128), nullable=False),
    Column("labels", JSON, nullable=False, default=dict),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("severity", String(16), nullable=False),  # ok | warn | critical | no_data
)

stress_index = Table(
    "stress_index",
    metadata,
    Column("scope", String(8), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("value", Float, nullable=True),
    Column("level", String(16), nullable=True),
    Column("segments", JSON, nullable=False, default=dict),
)

crisis_probability = Table(
    "crisis_probability",
    metadata,
    Column("country", String(8), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("horizon", Integer, primary_key=True),
    Column("probability", Float, nullable=True),
    Column("details", JSON, nullable=False, default=dict),
)

# --- alerting -----------------------------------------------------------------------------------
alerts = Table(
    "alerts",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("rule", String(128), nullable=False),
    Column("labels", JSON, nullable=False, default=dict),
    Column("state", String(16), nullable=False),  # pending | firing | resolved | no_data
    Column("severity", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("summary", Text, nullable=False, default=""),
    Column("pending_count", Integer, nullable=False, default=0),
    Column("starts_at", UtcDateTime(), nullable=True),
    Column("ends_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("last_eval_date", Date, nullable=True),
    Index("ix_alerts_state", "state"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("receiver", String(128), nullable=False),
    Column("group_key", Text, nullable=False, default=""),
    Column("kind", String(16), nullable=False, default="alert"),  # alert | heartbeat | digest | test
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("give_up_at", UtcDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Index("ix_notifications_due", "status", "next_attempt_at"),
)

notification_groups = Table(
    "notification_groups",
    metadata,
    Column("receiver", String(128), primary_key=True),
    Column("group_key", String(512), primary_key=True),
    Column("last_notified_at", UtcDateTime(), nullable=True),
    Column("last_digest", Text, nullable=False, default=""),
)

silences = Table(
    "silences",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("matchers", JSON, nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("created_by", Text, nullable=False, default=""),
    Column("comment", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
)

# --- reports and jobs -------------------------------------------------------------------------
reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", Date, nullable=False),
    Column("format", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("generated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("as_of", "format", name="uq_reports_as_of_format"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(64), nullable=False),
    Column("scheduled_at", UtcDateTime(), nullable=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("status", String(16), nullable=False),  # running | ok | failed | timeout | cancelled
    Column("error", Text, nullable=True),
    Index("ix_job_runs_job", "job_id", "started_at"),
)
