"""Where conversation threads are kept: a SQLite file, or PostgreSQL when one is configured.

Both are LangGraph checkpointers: every step of a turn is saved, so a turn that fails midway
(a server went away) leaves the thread as it was before the failing step.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.settings import Settings

CONNECT_TIMEOUT = 5
"""Seconds to wait for PostgreSQL to accept a connection (at start and from the pool)."""


APPLICATION_NAME = "coderag-threads"
"""How coderag's connections show in ``pg_stat_activity``."""


class ThreadStoreUnavailableError(RuntimeError):
    """The thread database cannot be reached; the message says what to do next."""


def open_checkpointer(settings: Settings) -> Any:
    """Return the checkpointer ``settings`` select: PostgreSQL at ``postgres_url``, else SQLite.

    Raises:
        ThreadStoreUnavailableError: when PostgreSQL does not accept a connection.
    """
    if settings.postgres_url:
        return postgres_checkpointer(settings.postgres_url)
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = settings.threads_db or (settings.home / "threads.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))


def postgres_checkpointer(url: str, timeout: int = CONNECT_TIMEOUT) -> Any:
    """Return a ``PostgresSaver`` on a small self-healing pool, its tables set up.

    A first connection is made here so that a wrong URL or a stopped server fails now, with
    the reason, rather than inside the first turn. The pool checks a connection before each
    use, so a server restart costs one reconnect instead of the session.

    Raises:
        ThreadStoreUnavailableError: when PostgreSQL does not accept a connection.
    """
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    # what PostgresSaver needs: autocommit, no server-side prepared statements, dict rows
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "prepare_threshold": 0,
        "row_factory": dict_row,
        "connect_timeout": timeout,
        "application_name": APPLICATION_NAME,
    }
    try:
        with psycopg.connect(url, **kwargs) as conn:
            PostgresSaver(conn).setup()  # creates or migrates the tables, once per process
    except psycopg.Error as exc:
        raise ThreadStoreUnavailableError(unreachable_message(url, exc)) from exc
    pool: ConnectionPool[Any] = ConnectionPool(
        url,
        kwargs=kwargs,
        min_size=1,
        max_size=2,
        timeout=timeout,
        check=ConnectionPool.check_connection,
        name=APPLICATION_NAME,
        open=True,
    )
    return PostgresSaver(pool)


def close_checkpointer(saver: Any) -> None:
    """Release the connections of ``saver`` (a pool or a SQLite connection)."""
    conn = getattr(saver, "conn", None)
    close = getattr(conn, "close", None)
    if callable(close):
        close()


def unreachable_message(url: str, exc: BaseException) -> str:
    """Say, in one line, that PostgreSQL at ``url`` is unreachable and what to do."""
    return (
        f"PostgreSQL at {redact(url)} is not reachable ({type(exc).__name__}: {one_line(exc)}): "
        "start it or fix CODERAG_POSTGRES_URL, or unset it to keep threads in SQLite"
    )


def outage_error(url: str, exc: BaseException, thread_id: str) -> ThreadStoreUnavailableError:
    """Return the error for PostgreSQL failing during a turn of ``thread_id``."""
    return ThreadStoreUnavailableError(
        f"PostgreSQL at {redact(url)} stopped answering ({type(exc).__name__}: "
        f"{one_line(exc)}): thread {thread_id} keeps what was saved before; start the server "
        f"and ask again with --thread {thread_id}"
    )


def is_database_error(exc: BaseException) -> bool:
    """Return True when ``exc`` or its cause is a PostgreSQL connection or server failure."""
    import psycopg

    err: BaseException | None = exc
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, psycopg.OperationalError | psycopg.InterfaceError):
            return True
        err = err.__cause__ or err.__context__
    return False


def redact(url: str) -> str:
    """Return ``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def one_line(exc: BaseException) -> str:
    """Return the message of ``exc`` on one line (psycopg's span several)."""
    return re.sub(r"\s+", " ", str(exc)).strip()
