"""Serve the code tools over MCP (stdio): the LangChain tools' schemas, descriptions and text.

Built on the ``mcp`` package's low-level :class:`~mcp.server.lowlevel.Server`, so a tool's MCP
``inputSchema`` is exactly the JSON schema LangChain gives a chat model for it. Tool calls run
in worker threads; a reply starting with ``error:`` is flagged ``isError`` for the client.
stdout carries only the protocol: the transport diverts file descriptor 1 to stderr while it
serves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server

from tools.code_tools import ERROR_PREFIX

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Tools over one indexed code repository. Start with search_code or find_symbol, follow "
    "the call graph with callers/callees, read code with read_span (paths relative to the "
    "repository root), and use ask_codebase for a cited answer to a whole question."
)


def _version() -> str:
    try:
        return version("coderag")
    except PackageNotFoundError:
        return "0"


def _input_schema(tool: BaseTool) -> dict[str, Any]:
    """The JSON schema of ``tool``'s arguments, as LangChain gives it to a chat model."""
    parameters: dict[str, Any] = convert_to_openai_tool(tool)["function"]["parameters"]
    return parameters


def _result(text: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        is_error=text.startswith(ERROR_PREFIX),
    )


def build_server(tools: Sequence[BaseTool], *, name: str = "coderag") -> Server[Any]:
    """Return an MCP server listing ``tools`` and answering their calls."""
    by_name = {t.name: t for t in tools}
    listed = [
        types.Tool(name=t.name, description=t.description, input_schema=_input_schema(t))
        for t in tools
    ]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = by_name.get(params.name)
        if tool is None:
            return _result(f"{ERROR_PREFIX}unknown tool {params.name!r}; see tools/list")
        arguments = dict(params.arguments or {})
        try:
            text = await anyio.to_thread.run_sync(tool.invoke, arguments)
        except Exception as exc:  # the tools report their own failures; this is a last resort
            log.exception("tool %s failed", params.name)
            text = f"{ERROR_PREFIX}{type(exc).__name__}: {exc}"
        return _result(str(text))

    return Server(
        name,
        version=_version(),
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(server: Server[Any], on_start: Callable[[], object] | None = None) -> None:
    """Serve ``server`` on stdin/stdout until the client closes them.

    ``on_start`` (non-blocking: e.g. starting a background index run) is called once stdout
    has been claimed for the protocol, so anything the work prints lands on stderr; the
    handshake never waits for it.
    """
    async with stdio_server() as (read_stream, write_stream):
        if on_start is not None:
            on_start()
        await server.run(read_stream, write_stream, server.create_initialization_options())


def run_stdio(server: Server[Any], on_start: Callable[[], object] | None = None) -> None:
    """Blocking entry point of :func:`serve_stdio`."""
    anyio.run(serve_stdio, server, on_start)
