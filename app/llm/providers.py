"""``make_chat_model``: the LangChain chat model picked by ``CODERAG_LLM``.

* ``embedded`` (default) or ``qwen-0.5b``: Qwen2.5-Coder-0.5B-Instruct in process through
  llama.cpp (``xllamacpp``), assembled once from its packages (:mod:`app.models.gguf`);
* ``qwen-1.5b``: Qwen2.5-Coder-1.5B-Instruct the same way (``make llm-1.5b`` installs it);
* ``smollm2``: SmolLM2-135M-Instruct, tiny and fast (the tests' real model);
* ``gguf:/path/to/model.gguf``: the same route with the user's model;
* ``ollama:MODEL``: a model served by Ollama at ``OLLAMA_HOST``.

The llama.cpp routes speak the OpenAI API to a loopback server (``ChatOpenAI``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from app.llm.embedded import LlamaConfig, gguf_path, llama_server_url, smollm2_path
from app.llm.errors import LLMUnavailableError
from app.llm.spec import LLMSpec, parse_spec
from app.models.errors import ModelMissingError
from app.models.gguf import PACKAGED, packaged_gguf_path
from app.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel, LanguageModelInput
    from langchain_core.runnables import Runnable

M = TypeVar("M", bound=BaseModel)

OLLAMA_PORT = 11434


def make_chat_model(settings: Settings) -> BaseChatModel:
    """Return the chat model ``settings.llm`` names, configured from the ``llm_*`` settings.

    The llama.cpp routes start (or reuse) the in-process server here; Ollama is not contacted
    until the first call (use :func:`check_available` to fail fast).

    Raises:
        LLMUnavailableError: for a bad ``CODERAG_LLM``, a missing model file or package, or a
            model llama.cpp cannot load.
    """
    spec = parse_spec(settings.llm)
    if spec.kind == "ollama":
        return _ollama(spec.target, settings)
    return _llama(model_file(spec, settings), settings)


def model_file(spec: LLMSpec, settings: Settings) -> Path:
    """Return the GGUF file a llama.cpp ``spec`` names (packaged models joined on first use).

    Raises:
        LLMUnavailableError: when the file or the packages that ship it are missing.
    """
    if spec.kind == "packaged":
        try:
            return packaged_gguf_path(PACKAGED[spec.target], settings.home)
        except ModelMissingError as exc:
            raise LLMUnavailableError(str(exc)) from exc
    if spec.kind == "smollm2":
        return smollm2_path()
    return gguf_path(spec.target)


def check_available(model: BaseChatModel, timeout: float = 3.0) -> None:
    """Fail fast, within ``timeout`` seconds, when ``model`` cannot answer.

    Pings the model's server; for Ollama also checks that the model is pulled. Other kinds
    of chat model are assumed available.

    Raises:
        LLMUnavailableError: with what to do next.
    """
    from langchain_ollama import ChatOllama
    from langchain_openai import ChatOpenAI

    if isinstance(model, ChatOllama):
        _ping_ollama(model.base_url or ollama_url(""), model.model, timeout)
    elif isinstance(model, ChatOpenAI) and model.openai_api_base:
        _ping_openai(model.openai_api_base, timeout)


def outage_error(model: Any, exc: BaseException, thread_id: str) -> LLMUnavailableError:
    """Return the error for ``model`` failing a turn of ``thread_id`` after its retries.

    Says which server did not answer, what to do, and how to finish the turn: the thread is
    saved up to the step that failed, and asking again on it resumes from there.
    """
    from langchain_ollama import ChatOllama

    if isinstance(model, ChatOllama):
        url = model.base_url or ollama_url("")
        advice = f"is `ollama serve` running at {url}? (OLLAMA_HOST)"
    else:
        advice = "its server stopped; check the model and memory"
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())
    return LLMUnavailableError(
        f"the chat model did not answer after retries ({reason}); {advice}. Thread "
        f"{thread_id} is saved: ask the same question with --thread {thread_id} to resume"
    )


def structured(model: BaseChatModel, schema: type[M]) -> Runnable[LanguageModelInput, M]:
    """Return ``model`` answering with ``schema`` instances.

    Uses JSON-schema constrained decoding (a llama.cpp grammar, Ollama's ``format``), so even
    a small model produces parsable output.
    """
    runnable = model.with_structured_output(schema, method="json_schema")
    return cast("Runnable[LanguageModelInput, M]", runnable)


def ollama_url(host: str) -> str:
    """Normalise an ``OLLAMA_HOST`` value (``host``, ``host:port`` or a URL) to a base URL."""
    value = host.strip() or f"http://localhost:{OLLAMA_PORT}"
    if "://" not in value:
        value = f"http://{value}"
    parts = urlsplit(value)
    netloc = parts.netloc if parts.port else f"{parts.netloc}:{OLLAMA_PORT}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _llama(path: Path, settings: Settings) -> BaseChatModel:
    import openai
    from langchain_openai import ChatOpenAI

    threads = settings.llm_threads or max(1, (os.cpu_count() or 1) // 2)
    url = llama_server_url(LlamaConfig(path, settings.llm_ctx, threads))
    return ChatOpenAI(
        base_url=f"{url}/v1",
        api_key=SecretStr("local"),
        model=path.stem,
        temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        max_retries=0,
        # small local models loop on their own words without a repeat penalty (llama.cpp option)
        extra_body={"repeat_penalty": settings.llm_repeat_penalty},
        # loopback traffic must not go through an HTTP(S)_PROXY from the environment
        http_client=openai.DefaultHttpxClient(trust_env=False),
        http_async_client=openai.DefaultAsyncHttpxClient(trust_env=False, limits=_no_keepalive()),
    )


def _no_keepalive() -> Any:
    """Connection limits for the async loopback client: no idle connections kept.

    A pooled connection belongs to the event loop that opened it; reused from a later
    ``asyncio.run`` it fails ("Event loop is closed") and leaves a request dangling that
    blocks the in-process server's shutdown at exit. Opening a loopback connection costs
    well under a millisecond.
    """
    import openai

    # the SDK's own httpx flavour (httpx2 for openai>=3), whichever it is
    return type(openai.DEFAULT_CONNECTION_LIMITS)(max_keepalive_connections=0)


def _ollama(name: str, settings: Settings) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=name,
        base_url=ollama_url(settings.ollama_host),
        temperature=settings.llm_temperature,
        num_predict=settings.llm_max_tokens,
        num_ctx=settings.llm_ctx,
        client_kwargs={"timeout": settings.llm_timeout},
    )


def _ping_ollama(base_url: str, name: str, timeout: float) -> None:
    import httpx

    url = f"{base_url.rstrip('/')}/api/tags"
    try:
        resp = httpx.get(url, timeout=timeout)
        resp.raise_for_status()
        listed = resp.json().get("models") or []
    except (httpx.HTTPError, ValueError) as exc:
        raise LLMUnavailableError(
            f"Ollama is not reachable ({type(exc).__name__}: {exc}): start `ollama serve` "
            f"or set OLLAMA_HOST; tried {url}"
        ) from exc
    names = [str(m.get("model") or m.get("name") or "") for m in listed]
    if not any(n == name or n.startswith(f"{name}:") for n in names):
        raise LLMUnavailableError(
            f"Ollama at {base_url} has no model {name!r} (it has: {', '.join(names) or 'none'}): "
            f"run `ollama pull {name}`"
        )


def _ping_openai(base_url: str, timeout: float) -> None:
    import httpx

    url = f"{base_url.rstrip('/')}/models"
    try:
        httpx.get(url, timeout=timeout, trust_env=False).raise_for_status()
    except httpx.HTTPError as exc:
        raise LLMUnavailableError(
            f"the chat model server does not answer ({type(exc).__name__}: {exc}); tried {url}"
        ) from exc
