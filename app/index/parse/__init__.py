"""Parsing with tree-sitter: grammars and tag queries, per-language extraction, worker pool.

``parser`` turns one file into symbols and references; ``pool`` runs parse, chunk and fact
extraction of many files on every core. To add a language: a grammar in ``grammars``, a tag
query in ``queries/``, its knobs in ``langs`` and its import forms in ``imports``.
"""
