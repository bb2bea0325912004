"""Code tools for other agents: LangChain tools (``make_tools``) and an MCP server over them."""

from tools.code_tools import ERROR_PREFIX, TOOL_SPECS, CodeTools, ToolSpec, make_tools

__all__ = ["ERROR_PREFIX", "TOOL_SPECS", "CodeTools", "ToolSpec", "make_tools"]
