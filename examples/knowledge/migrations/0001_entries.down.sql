DROP TABLE knowledge_entries;
