-- System actions (added in release 2: the file is created on the first launch of that release): what the assistant
-- did on the machine, for the user to review.
CREATE TABLE actions (
    id      INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL,
    task_id INTEGER,
    at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
