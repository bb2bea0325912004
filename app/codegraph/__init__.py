"""The code graph: files, modules and symbols with their imports, calls and bases.

Built from the per-file facts the indexer stores (``build``), names resolved the way each
language's import system does (``resolve/``), Python calls by a points-to solve (``pyflow/``),
kept in step with the index (``refresh``) and queried by retrieval, the question graph and the
tools (``queries``).
"""
