"""The index database's schema: its tables, the FTS5 lexical index and the schema version."""

SCHEMA_VERSION = 3
LEXICAL_ONLY_CHANGES = {2}
"""Older schema versions that differ only in the lexical table: migrated in place."""

LEXICAL = """CREATE VIRTUAL TABLE IF NOT EXISTS lexical USING fts5(
    path_tokens, symbol_tokens, body_tokens, tokenize = "porter unicode61 tokenchars '_'"
);"""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    language TEXT NOT NULL, structural INTEGER NOT NULL, lossy INTEGER NOT NULL,
    parsed TEXT NOT NULL, pyfacts TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, path TEXT NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, kind TEXT NOT NULL,
    language TEXT NOT NULL, symbol TEXT, header TEXT NOT NULL, content_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    text TEXT NOT NULL, embed_text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(text_hash);
{LEXICAL}
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL, hash TEXT NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (model, hash)
);
"""
