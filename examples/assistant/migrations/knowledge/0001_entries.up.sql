-- What the assistant knows: one row per entry; lookups are "best entries of a domain", hence the composite index.
CREATE TABLE entries (
    id         INTEGER PRIMARY KEY,
    domain     TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    confidence REAL NOT NULL DEFAULT 0.5 CHECK (confidence BETWEEN 0 AND 1)
);
CREATE INDEX entries_by_domain_confidence ON entries (domain, confidence DESC);
