"""Points-to tables with dependency tracking for the worklist solver.

Abstract values are short strings whose first character says what they are:
``f:Q`` function or lambda, ``b:Q@R`` method Q bound to receiver value R,
``c:K`` class, ``i:K`` instance, ``m:M`` internal module, ``x:N`` external name,
``B:name`` builtin, ``k:repr`` str/int constant, ``l:``/``t:``/``d:``/``e:`` list,
tuple, dict and set allocation sites, ``g:Q`` generator of Q, ``r:Q`` iterable of
Q's results (``map``), ``u:K`` ``super()`` in class K, ``v:S`` the values of dict
site S, ``p:S`` items of S, ``q:S`` one (key, value) pair of S, ``y:T.name|S`` a
method of builtin type T (receiver site S).

Table keys: ``("v", owner, name)`` variables, ``("r", Q)`` returns, ``("y", Q)``
yields, ``("a", K, name)`` instance attributes, ``("h", site, key)`` container
items, ``("hk", site)`` their keys, ``("mro", K)`` class hierarchy.
"""

from __future__ import annotations

import sys
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, ...]
Vals = set[str] | frozenset[str]
EMPTY: frozenset[str] = frozenset()

#: Most values one table entry holds; beyond it the entry stops growing (keeps solve fast).
MAX_VALUES = 16
#: Most str/int constants one entry holds (they only serve as container keys).
MAX_CONSTS = 8


class SolveBudgetExceeded(RuntimeError):
    """Raised when ``solve`` needs more work units than its ``max_work`` allows."""


@dataclass
class Frame:
    """Flow-sensitive state while walking one scope body (or an inline class body)."""

    owner: str
    caller: str
    kind: str
    env: dict[str, Vals] = field(default_factory=dict)
    overlay: dict[tuple[str, str], Vals] = field(default_factory=dict)


class State:
    """Global monotone tables plus the worklist of scopes to (re)walk."""

    def __init__(self) -> None:
        self.store: dict[Key, set[str]] = {}
        self.consts: dict[Key, int] = {}
        self.deps: defaultdict[Key, dict[str, None]] = defaultdict(dict)
        self.writers: dict[Key, set[str]] = {}
        self.local_readers: defaultdict[Key, dict[str, None]] = defaultdict(dict)
        self.edges: dict[str, set[str]] = {}
        self.unit = ""
        self.queue: deque[str] = deque()
        self.first: deque[str] = deque()
        self.priority: set[str] = set()
        self.queued: set[str] = set()
        self.funcs: dict[str, dict[str, Any]] = {}
        #: Work units spent so far: statements executed plus call expressions evaluated.
        self.work = 0
        self.max_work = sys.maxsize

    def over_budget(self) -> None:
        """Raise once the work spent passes ``max_work`` (a deterministic, not timed, limit)."""
        raise SolveBudgetExceeded(
            f"call-graph solve exceeded its work budget of {self.max_work} units")

    def read(self, key: Key) -> Vals:
        """Return the values under ``key`` and remember that the current scope needs them."""
        self.deps[key][self.unit] = None
        return self.store.get(key, EMPTY)

    def write(self, key: Key, vals: Vals) -> None:
        """Add ``vals`` under ``key``; requeue the scopes that read it when it grew."""
        if not vals:
            return
        s = self.store.get(key)
        if s is None:
            s = self.store[key] = set()
        elif len(s) >= MAX_VALUES or vals <= s:
            return
        new = vals - s
        if len(s) + len(new) > MAX_VALUES or any(v[0] == "k" for v in new):
            new = self._bounded(key, s, new)
            if not new:
                return
        s |= new
        self._notify_deps(key)

    def _bounded(self, key: Key, s: set[str], new: Vals) -> set[str]:
        """Trim ``new`` to the size and constant limits, deterministically."""
        room = MAX_VALUES - len(s)
        kroom = MAX_CONSTS - self.consts.get(key, 0)
        if kroom <= 0:
            new = {v for v in new if v[0] != "k"}
            if len(new) <= room:
                return set(new)
        out: set[str] = set()
        for v in sorted(new):
            if len(out) >= room:
                break
            if v[0] == "k":
                if kroom <= 0:
                    continue
                kroom -= 1
            out.add(v)
        self.consts[key] = MAX_CONSTS - kroom
        return out

    def _notify_deps(self, key: Key) -> None:
        for u in self.deps.get(key, ()):
            self.enqueue(u)

    def enqueue(self, unit: str) -> None:
        """Schedule ``unit`` for a (re)walk; module bodies jump the queue."""
        if unit not in self.queued:
            self.queued.add(unit)
            (self.first if unit in self.priority else self.queue).append(unit)

    def write_owned(self, key: Key, vals: Vals) -> None:
        """Write a variable or container item and record which scope wrote it."""
        w = self.writers.get(key)
        if w is None:
            self.writers[key] = {self.unit}
        elif self.unit not in w:
            w.add(self.unit)
            for u in self.local_readers.get(key, ()):
                self.enqueue(u)
        self.write(key, vals)

    def read_local(self, key: Key, local: Vals) -> Vals:
        """Combine a flow-sensitive local value with writes made by other scopes."""
        self.local_readers[key][self.unit] = None
        w = self.writers.get(key)
        if w and (len(w) > 1 or self.unit not in w):
            return local | self.read(key)
        return local

    def notify(self, key: Key) -> None:
        """Requeue the readers of ``key`` after a change outside ``write``."""
        self._notify_deps(key)

    def edge(self, caller: str, callee: str) -> None:
        """Record a call edge."""
        s = self.edges.get(caller)
        if s is None:
            self.edges[caller] = {callee}
        else:
            s.add(callee)

    def heap_write(self, site: str, key: str, vals: Vals) -> None:
        """Store ``vals`` as item ``key`` of container ``site``."""
        if not vals:
            return
        self.write(("hk", site), {key})
        self.write_owned(("h", site, key), vals)

    def heap_items(self, site: str) -> set[str]:
        """Return every value stored in container ``site``."""
        deps, store, unit = self.deps, self.store, self.unit
        out: set[str] = set()
        for k in tuple(self.read(("hk", site))):
            key = ("h", site, k)
            deps[key][unit] = None
            vals = store.get(key)
            if vals:
                out |= vals
        return out
