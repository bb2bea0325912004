"""Persistent stores of one repository's index: SQLite (manifest, lexical, cache) and Chroma."""

from app.index.stores.db import IndexCorruptError, IndexDB
from app.index.stores.vectors import VectorStore

__all__ = ["IndexDB", "IndexCorruptError", "VectorStore"]
