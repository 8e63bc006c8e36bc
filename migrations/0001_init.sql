-- Initial schema. Forward-only: never edit a released migration, add 0002_*.sql instead.
-- Timestamps are milliseconds since the Unix epoch.

CREATE TABLE models (
    id              TEXT PRIMARY KEY,
    source          TEXT NOT NULL CHECK (source IN ('router', 'backend')),
    path            TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL DEFAULT 0,
    architecture    TEXT,
    parameters      INTEGER,
    quantization    TEXT,
    context_length  INTEGER,
    group_name      TEXT,
    state           TEXT NOT NULL DEFAULT 'auto' CHECK (state IN ('auto', 'manual')),
    aliases_json    TEXT NOT NULL DEFAULT '[]',
    metadata_json   TEXT,
    modified_at     INTEGER,
    last_used_at    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Lifecycle history: load / ready / unload / evict / crash, with who asked and how long it took.
CREATE TABLE model_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id     TEXT NOT NULL,
    event        TEXT NOT NULL,
    status       TEXT,
    actor        TEXT,
    detail       TEXT,
    duration_ms  INTEGER,
    exit_code    INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX model_events_model_time ON model_events (model_id, created_at);

-- One row per proxied OpenAI request.
CREATE TABLE requests (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id           TEXT,
    endpoint           TEXT NOT NULL,
    status_code        INTEGER,
    stream             INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    ttft_ms            REAL,
    total_ms           REAL,
    tokens_per_second  REAL,
    error              TEXT,
    client             TEXT,
    created_at         INTEGER NOT NULL
);
CREATE INDEX requests_time ON requests (created_at);
CREATE INDEX requests_model_time ON requests (model_id, created_at);

-- System metric samples; the full sample is kept as JSON, the columns serve range queries and charts.
CREATE TABLE metrics (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ts            INTEGER NOT NULL,
    cpu_percent   REAL NOT NULL,
    mem_percent   REAL NOT NULL,
    rss_bytes     INTEGER NOT NULL,
    sample_json   TEXT NOT NULL
);
CREATE INDEX metrics_ts ON metrics (ts);

CREATE TABLE logs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    ts       INTEGER NOT NULL,
    level    INTEGER NOT NULL,
    source   TEXT NOT NULL,
    model    TEXT,
    message  TEXT NOT NULL
);
CREATE INDEX logs_ts ON logs (ts);
CREATE INDEX logs_model ON logs (model, id);

-- Dashboard settings edited from the UI (values are JSON).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value_json  TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE metadata (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
