-- Workflow history: each run of a workflow and its steps' output.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    workflow    TEXT NOT NULL,
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    output      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_workflow ON runs (workflow, started_at);
