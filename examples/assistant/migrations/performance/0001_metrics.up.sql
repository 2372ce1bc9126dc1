-- Agent performance: one row per measured call.
CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    agent       TEXT NOT NULL,
    latency_ms  INTEGER NOT NULL,
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX calls_by_agent ON calls (agent, at);
