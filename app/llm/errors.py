"""Errors of the chat-model layer and the transient/permanent split used for retries."""

from __future__ import annotations

from collections.abc import Iterator

_RETRYABLE_STATUS = frozenset({408, 429})
"""Client-side HTTP statuses worth retrying (request timeout, rate limit); 5xx always are."""


class LLMUnavailableError(RuntimeError):
    """The configured chat model cannot be used; the message says what to do next."""


def is_transient(exc: BaseException) -> bool:
    """Return True when retrying a chat-model call may succeed.

    Transient: refused or dropped connections, timeouts, HTTP 408/429 and 5xx answers (from
    the OpenAI, Ollama or httpx clients), also when they caused ``exc``. Configuration
    problems (:class:`LLMUnavailableError`), bad requests and unparsable answers are not.
    Meant for ``langgraph.types.RetryPolicy(retry_on=is_transient)``.
    """
    import httpx
    import ollama
    import openai

    network = (
        TimeoutError,
        ConnectionError,
        httpx.TimeoutException,
        httpx.NetworkError,
        httpx.RemoteProtocolError,
        openai.APIConnectionError,
    )
    for err in exception_chain(exc):
        if isinstance(err, LLMUnavailableError):
            return False
        if isinstance(err, network):
            return True
        status: int | None = None
        if isinstance(err, openai.APIStatusError | ollama.ResponseError):
            status = err.status_code
        elif isinstance(err, httpx.HTTPStatusError):
            status = err.response.status_code
        if status is not None:
            return status >= 500 or status in _RETRYABLE_STATUS
    return False


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield ``exc`` and the exceptions it was raised from, innermost last."""
    seen: set[int] = set()
    err: BaseException | None = exc
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__
