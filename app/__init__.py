"""coderag: a local, private assistant that answers questions about a code base."""

__version__ = "0.1.0"
