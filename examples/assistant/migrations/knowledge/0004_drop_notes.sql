-- The notes now live in tasks.db; the emptied table goes once the move has run.
-- migrate:requires tasks@2
DROP TABLE notes;
