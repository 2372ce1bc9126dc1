DROP INDEX todos_open_by_due;
ALTER TABLE todos DROP COLUMN due_at;
