-- Release 1 kept the user's notes here; release 2 moves them to the task memory (tasks/0002_move_notes.sql).
CREATE TABLE notes (
    id    INTEGER PRIMARY KEY,
    body  TEXT NOT NULL,
    topic TEXT
);
