"""Name resolution for the code graph: what a call or base name means where it is written.

``modules`` finds modules, packages and imported names per language, ``imports`` turns one
import statement into the names it binds, and ``resolver`` answers names in calls and base
lists (scopes, imports, self/cls, inheritance).
"""
