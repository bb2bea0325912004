"""A tiny progress protocol so the engine reports work without printing anything itself."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives phase starts, advances and ends; the CLI renders them as progress bars."""

    def start(self, phase: str, total: int | None) -> None:
        """Begin ``phase`` with ``total`` units (None when unknown)."""

    def advance(self, phase: str, n: int = 1) -> None:
        """Record ``n`` more units of ``phase`` done."""

    def end(self, phase: str) -> None:
        """Finish ``phase``."""


class NullProgress:
    """Progress sink that ignores everything (library and test default)."""

    def start(self, phase: str, total: int | None) -> None:
        """Ignore."""

    def advance(self, phase: str, n: int = 1) -> None:
        """Ignore."""

    def end(self, phase: str) -> None:
        """Ignore."""
