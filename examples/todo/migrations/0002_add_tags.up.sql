CREATE TABLE tags (
    todo_id INTEGER NOT NULL REFERENCES todos(id) ON DELETE CASCADE,
    tag     TEXT    NOT NULL,
    PRIMARY KEY (todo_id, tag)
);
CREATE INDEX tags_by_tag ON tags(tag);
