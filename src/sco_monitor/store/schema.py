"""Tables of the store (SQLAlchemy Core): the schema the code expects.

Every change here comes with an Alembic revision under `sco_monitor/migrations/versions/`
(`tests/store/test_migrations.py` fails on a difference); `Store.init` upgrades a store to it.
"""

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
    # Clustered on (series_id, date) in SQLite too: one B-tree instead of table + index.
    sqlite_with_rowid=False,
)

quality_flags = Table(
    "quality_flags",
    metadata,
    Column("series_id", String(128), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("flag", String(32), primary_key=True),  # spike | gap | duplicate | non_finite | non_positive | stale
    Column("detail", Text, nullable=False, default=""),
    Column("value", Float, nullable=True),
    Column("run_id", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_quality_flags_date", "date"),
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
    Column("status", String(16), nullable=False),  # running | ok | empty | failed
    Column("rows", Integer, nullable=False, default=0),  # observations inserted or changed
    Column("attempts", Integer, nullable=False, default=1),  # HTTP requests it took, retries included
    Column("error", Text, nullable=True),
    Column("received", Integer, nullable=False, default=0),  # observations the provider returned
    Column("window_start", Date, nullable=True),  # none = full history
    Column("window_end", Date, nullable=True),
    Column("last_date", Date, nullable=True),  # newest stored observation after the run
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
    Column("kind", String(32), nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("details", JSON, nullable=False, default=dict),
)

stress_index = Table(
    "stress_index",
    metadata,
    Column("scope", String(8), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("value", Float, nullable=True),
    Column("level", String(16), nullable=True),
    Column("segments", JSON, nullable=False, default=dict),
    Column("details", JSON, nullable=False, default=dict),  # sub-indices, level bounds, missing segments, note
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

saved_assessments = Table(  # the one assessment of each day, whole, as the report and the track record read it
    "saved_assessments",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("saved_at", UtcDateTime(), nullable=False),
    Column("body", JSON, nullable=False),  # the Assessment's JSON form
)

# --- alerting -----------------------------------------------------------------------------------
alerts = Table(
    "alerts",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("rule", String(128), nullable=False),
    Column("kind", String(32), nullable=False, default=""),
    Column("category", String(64), nullable=False, default=""),
    Column("series_id", String(128), nullable=True),
    Column("labels", JSON, nullable=False, default=dict),
    Column("state", String(16), nullable=False),  # pending | firing | resolved | inactive
    Column("severity", String(16), nullable=False),  # warn | critical | no_data
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("warn", Float, nullable=True),
    Column("critical", Float, nullable=True),
    Column("clear", Float, nullable=True),
    Column("direction", String(8), nullable=False, default="above"),
    Column("for_count", Integer, nullable=False, default=1),
    Column("summary", Text, nullable=False, default=""),
    Column("pending_count", Integer, nullable=False, default=0),
    Column("within_count", Integer, nullable=False, default=0),  # N-of-M window (0: `for` consecutive)
    Column("breach_bits", Integer, nullable=False, default=0),  # bit i: the evaluation i runs ago breached
    Column("starts_at", UtcDateTime(), nullable=True),
    Column("fired_at", UtcDateTime(), nullable=True),
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
    Column("claim_token", String(36), nullable=True),
    Column("claimed_until", UtcDateTime(), nullable=True),
    Column("last_attempt_at", UtcDateTime(), nullable=True),
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
    Column("route", String(128), nullable=False, default=""),
    Column("group_labels", JSON, nullable=False, default=dict),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("last_notified_at", UtcDateTime(), nullable=True),
    Column("firing", JSON, nullable=False, default=dict),  # fingerprint -> severity, as last told
    Column("resolved", JSON, nullable=False, default=list),  # fingerprints last told resolved
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

# --- replay -------------------------------------------------------------------------------------
replay_days = Table(  # days the replay finished, so an interrupted replay resumes where it stopped
    "replay_days",
    metadata,
    Column("date", Date, primary_key=True),
    Column("run_id", String(64), nullable=False),
    Column("reported", Boolean, nullable=False, default=False),
    Column("finished_at", UtcDateTime(), nullable=False),
)

alert_history = Table(  # the alerts pending or firing after each replayed day (`export alerts`)
    "alert_history",
    metadata,
    Column("date", Date, primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("rule", String(128), nullable=False),
    Column("labels", JSON, nullable=False, default=dict),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("summary", Text, nullable=False, default=""),
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
    # running | ok | failed | timeout | cancelled | interrupted | skipped | missed
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("kind", String(16), nullable=False, default="scheduled"),  # scheduled | catch-up
    Column("instance", String(160), nullable=False, default=""),  # host:pid of the daemon
    Column("detail", Text, nullable=True),  # the job's own one-line summary
    Index("ix_job_runs_job", "job_id", "started_at"),
    Index("ix_job_runs_status", "status"),
)

# --- the HTTP API: tokens, audit of writes, what partners and operators add ---------------------
api_tokens = Table(  # bearer tokens, kept only as sha256 hashes; a revoked token stays for the audit
    "api_tokens",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scope", String(16), nullable=False),  # read | partner | operator | admin
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", Text, nullable=False, default=""),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

audit_log = Table(  # every write through the API (and token changes from the CLI): who, what, when, target
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),  # token name, or cli:<login>
    Column("scope", String(16), nullable=False, default=""),
    Column("action", String(64), nullable=False),  # e.g. silence.create, partner_assessment.create
    Column("target", Text, nullable=False, default=""),  # the id of what was written
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_audit_log_at", "at"),
)

partner_assessments = Table(  # a partner centre's own view of a country or an episode
    "partner_assessments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("author", String(64), nullable=False),  # the token's name
    Column("country", String(3), nullable=False),  # ISO 3166 alpha-3 or WLD
    Column("episode", Text, nullable=True),
    Column("level", String(16), nullable=False),  # low..severe, or warning | critical
    Column("text", Text, nullable=False),
    Column("forecast_level", String(16), nullable=True),
    Column("forecast_horizon_days", Integer, nullable=True),  # trading days
    Column("forecast_text", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_partner_assessments_country", "country", "created_at"),
)

alert_acknowledgements = Table(
    "alert_acknowledgements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("author", String(64), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_alert_acknowledgements_fp", "fingerprint", "created_at"),
)

analyst_notes = Table(
    "analyst_notes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("author", String(64), nullable=False),
    Column("subject", String(128), nullable=False),  # a country, an alert fingerprint, a date, or "general"
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_analyst_notes_subject", "subject", "created_at"),
)
