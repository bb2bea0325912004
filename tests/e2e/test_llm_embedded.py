"""The embedded chat models for real, in process through llama.cpp.

SmolLM2-135M-Instruct (``CODERAG_LLM=smollm2``) is the fast real model these tests use; the
default, Qwen2.5-Coder-0.5B-Instruct, is assembled from its packages and asked once.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from app.llm import LLMUnavailableError, check_available, make_chat_model, structured
from app.llm.embedded import smollm2_path
from app.services import Services
from app.settings import Settings

pytestmark = pytest.mark.slow


class Route(BaseModel):
    """Which kind of question this is."""

    route: Literal["symbol", "callgraph", "conceptual", "chitchat"]


class Keywords(BaseModel):
    """Search keywords for a question about code."""

    keywords: list[str]
    confident: bool


def _embedded() -> ChatOpenAI:
    model = make_chat_model(Settings(llm="smollm2", llm_max_tokens=64))
    assert isinstance(model, ChatOpenAI)
    return model


def test_plain_invoke_answers() -> None:
    model = _embedded()
    check_available(model)
    reply = model.invoke([HumanMessage("What is a Python list? Answer in one sentence.")])
    assert isinstance(reply.content, str) and len(reply.content.split()) >= 3
    assert reply.usage_metadata is not None
    assert 0 < reply.usage_metadata["output_tokens"] <= 64


def test_structured_output_is_a_valid_object() -> None:
    model = _embedded()
    route = structured(model, Route).invoke(
        [
            SystemMessage("Classify the user's question about a code base."),
            HumanMessage("Which functions call apply_discount?"),
        ]
    )
    assert isinstance(route, Route)
    keywords = structured(model, Keywords).invoke(
        [
            SystemMessage("Give search keywords for the question. Answer in JSON."),
            HumanMessage("Question: how does the cart compute its total?"),
        ]
    )
    assert isinstance(keywords, Keywords) and isinstance(keywords.confident, bool)


def test_server_is_started_once_and_shared(tmp_path: Path) -> None:
    first = _embedded()
    start = time.monotonic()
    second = make_chat_model(Settings(llm="smollm2", llm_temperature=0.7))
    same_file = make_chat_model(Settings(llm=f"gguf:{smollm2_path()}"))
    via_services = Services(tmp_path, Settings(llm="smollm2")).llm
    assert time.monotonic() - start < 1.0
    urls = {getattr(m, "openai_api_base", None) for m in (first, second, same_file, via_services)}
    assert len(urls) == 1 and urls.pop().startswith("http://127.0.0.1:")


def test_a_file_that_is_no_model_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF but not really a model")
    with pytest.raises(LLMUnavailableError, match=r"could not load .*broken\.gguf"):
        make_chat_model(Settings(llm=f"gguf:{bad}"))


ASYNC_SCRIPT = """
import asyncio
from app.llm import make_chat_model
from app.settings import Settings

model = make_chat_model(Settings(llm="smollm2", llm_max_tokens=8))
for _ in range(2):  # a fresh event loop each time, as a CLI calling asyncio.run per question
    print(bool(asyncio.run(model.ainvoke("Say hi")).content))
"""


def test_async_calls_from_fresh_event_loops_and_a_clean_exit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ASYNC_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_the_default_model_is_qwen_coder_assembled_once(tmp_path: Path) -> None:
    """``embedded`` joins the packaged Qwen2.5-Coder-0.5B parts, checks them, and answers."""
    from app.models.gguf import QWEN_05B

    settings = Settings(home=tmp_path / "home", llm_max_tokens=24)
    assert settings.llm == "embedded"
    model = make_chat_model(settings)
    gguf = tmp_path / "home" / "models" / QWEN_05B.filename
    assert gguf.stat().st_size == QWEN_05B.size
    assert isinstance(model, ChatOpenAI) and model.model_name == gguf.stem
    reply = model.invoke([HumanMessage("Name the Python keyword that defines a function.")])
    assert "def" in str(reply.content)
