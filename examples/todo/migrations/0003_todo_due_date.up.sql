ALTER TABLE todos ADD COLUMN due_at TEXT;
CREATE INDEX todos_open_by_due ON todos(due_at) WHERE done = 0;
