DROP INDEX knowledge_by_domain_created;
DROP INDEX knowledge_by_domain_confidence;
ALTER TABLE knowledge_entries DROP COLUMN confidence;
ALTER TABLE knowledge_entries DROP COLUMN domain;
