-- Entries belong to a domain and carry a confidence; lookups are "best entries of a domain" and "newest entries of
-- a domain", so both get a composite index.
ALTER TABLE knowledge_entries ADD COLUMN domain TEXT NOT NULL DEFAULT 'general';
ALTER TABLE knowledge_entries ADD COLUMN confidence REAL NOT NULL DEFAULT 0.5 CHECK (confidence BETWEEN 0 AND 1);
CREATE INDEX knowledge_by_domain_confidence ON knowledge_entries (domain, confidence DESC);
CREATE INDEX knowledge_by_domain_created ON knowledge_entries (domain, created_at);
