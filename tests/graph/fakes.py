"""Fakes for the question graph: a scripted chat model and ``structured`` stand-ins.

``ScriptedChatModel`` tells the graph's prompts apart by their template (``prompts/*.md``), answers
each kind from its own queue (a queued exception is raised instead), falls back to a per-kind
default, and records every prompt so tests can count and read the calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, Field

from prompts import load

KINDS = ("answer", "condense", "decompose", "hyde", "rewrite", "step_back", "expand_query")
"""Templates the graph sends to the chat model."""


def kind_of(prompt: str) -> str:
    """Return which template ``prompt`` was rendered from (its text up to the first field)."""
    for name in KINDS:
        if prompt.startswith(load(name).split("{", 1)[0]):
            return name
    raise AssertionError(f"prompt from no known template: {prompt[:80]!r}")


class ScriptedChatModel(BaseChatModel):
    """A chat model answering each prompt kind from a queue; every call is recorded."""

    replies: dict[str, list[str | BaseException]] = Field(default_factory=dict)
    """Per kind, the next replies in order; an exception is raised instead of answered."""
    defaults: dict[str, str] = Field(default_factory=dict)
    """Per kind, the reply once its queue is empty (else an empty reply)."""
    prompts: list[tuple[str, str]] = Field(default_factory=list)
    """Every call as (kind, prompt), failed ones included; the prompt is the last message."""
    conversations: list[list[BaseMessage]] = Field(default_factory=list)
    """Every call's whole list of messages (system rules and worked examples included)."""

    def queue(self, kind: str, *replies: str | BaseException) -> ScriptedChatModel:
        """Append ``replies`` to the queue of ``kind``; return self for chaining."""
        self.replies.setdefault(kind, []).extend(replies)
        return self

    def calls(self, kind: str | None = None) -> list[str]:
        """Return the prompts sent so far, of one kind or all."""
        return [p for k, p in self.prompts if kind is None or k == kind]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt = str(messages[-1].content)
        kind = kind_of(prompt)
        self.prompts.append((kind, prompt))
        self.conversations.append(list(messages))
        queue = self.replies.get(kind, [])
        reply = queue.pop(0) if queue else self.defaults.get(kind, "")
        if isinstance(reply, BaseException):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=AIMessage(reply))])

    @property
    def _llm_type(self) -> str:
        return "scripted"


def json_structured(llm: Any, schema: type[BaseModel]) -> Runnable[Any, Any]:
    """Like ``app.llm.structured``: ask ``llm`` and parse its reply as JSON of ``schema``."""
    return RunnableLambda(lambda prompt: schema.model_validate_json(llm.invoke(prompt).content))


def returning(value: Any) -> Callable[[Any, type], Runnable[Any, Any]]:
    """A ``structured`` whose runnable returns ``value`` whatever it is asked."""
    return lambda llm, schema: RunnableLambda(lambda prompt: value)


def raising(exc: BaseException) -> Callable[[Any, type], Runnable[Any, Any]]:
    """A ``structured`` whose runnable raises ``exc``."""

    def fail(prompt: Any) -> Any:
        raise exc

    return lambda llm, schema: RunnableLambda(fail)
