"""A read-only name -> value view of a NumPy array (no networkx: the CLI imports it early)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np


class ArrayView(Mapping[str, float]):
    """Values of ``values`` by name, read on demand (a personalised PageRank, file similarities).

    Building a dict of every symbol or file per query would cost more than the query's use of
    a few dozen of them.
    """

    def __init__(self, pos: Mapping[str, int], values: np.ndarray) -> None:
        """Wrap ``values``, where ``pos`` gives each name's index."""
        self._pos = pos
        self._values = values

    def __getitem__(self, name: str) -> float:
        """Return the value of ``name`` (KeyError for an unknown name)."""
        return float(self._values[self._pos[name]])

    def __iter__(self) -> Iterator[str]:
        """Iterate over the names."""
        return iter(self._pos)

    def __len__(self) -> int:
        """Return the number of names."""
        return len(self._pos)
