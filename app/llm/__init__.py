"""Chat models: one LangChain ``BaseChatModel`` for the whole app, picked by ``CODERAG_LLM``."""

from app.llm.errors import LLMUnavailableError, is_transient
from app.llm.providers import check_available, make_chat_model, outage_error, structured
from app.llm.spec import LLMSpec, parse_spec

__all__ = [
    "LLMSpec",
    "LLMUnavailableError",
    "check_available",
    "is_transient",
    "make_chat_model",
    "outage_error",
    "parse_spec",
    "structured",
]
