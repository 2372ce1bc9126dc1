-- Moves the notes from knowledge.db into this file, in one transaction across both files: in rollback-journal mode
-- SQLite commits it atomically, so the rows are never in both files or in neither.
-- migrate:requires knowledge@3
-- migrate:attach knowledge
CREATE TABLE task_notes (
    id    INTEGER PRIMARY KEY,
    body  TEXT NOT NULL,
    topic TEXT
);
INSERT INTO task_notes (id, body, topic) SELECT id, body, topic FROM knowledge.notes;
DELETE FROM knowledge.notes;
