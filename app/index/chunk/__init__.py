"""Chunking: cut a parsed file into retrievable pieces that fit the embedder's window."""
