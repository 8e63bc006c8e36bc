-- Proxy telemetry: how each request ended and how long it queued; per-model settings that survive rescans
-- (they also apply to presets, which have no row in `models`).
ALTER TABLE requests ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok';
ALTER TABLE requests ADD COLUMN queue_ms REAL;

CREATE TABLE model_settings (
    model_id    TEXT PRIMARY KEY,
    ttl_sec     INTEGER,
    updated_at  INTEGER NOT NULL
);
