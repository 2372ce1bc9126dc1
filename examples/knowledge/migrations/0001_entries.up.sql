-- The knowledge store: one row per entry. `id INTEGER PRIMARY KEY` is the rowid the search index keys on.
CREATE TABLE knowledge_entries (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
