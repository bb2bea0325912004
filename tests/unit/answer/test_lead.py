"""The lead sentence: the evidence's own definitions and documentation, cited and verified."""

from __future__ import annotations

from pathlib import Path

from app.answer import check_answer
from app.answer.lead import defines, doc_sentence, lead_sentence
from graphs.nodes.respond import cite

ADAPTERS = '''class Session:
    def get_adapter(self, url):
        """
        Returns the appropriate connection adapter for the given URL.

        :rtype: requests.adapters.BaseAdapter
        """
        for prefix, adapter in self.adapters.items():
            if url.lower().startswith(prefix.lower()):
                return adapter

    def mount(self, prefix, adapter):
        """Registers a connection adapter to a prefix."""
        self.adapters[prefix] = adapter
'''

GO = """// OnlyValidArgs returns an error if there are any positional args that are not in
// the `ValidArgs` field of `Command`
func OnlyValidArgs(cmd *Command, args []string) error {
	return nil
}
"""

JSDOC = """/**
 * Iterate over all the registered interceptors
 *
 * This method is particularly useful for skipping over any
 * interceptors that may have become `null` calling `eject`.
 *
 * @param {Function} fn The function to call for each interceptor
 */
forEach(fn) {
}
"""


def block(n: int, path: str, start: int, end: int, symbol: str, text: str) -> dict[str, object]:
    return {"n": n, "path": path, "start_line": start, "end_line": end, "symbol": symbol,
            "text": text}  # fmt: skip


def session_blocks() -> list[dict[str, object]]:
    lines = ADAPTERS.splitlines()
    return [
        block(
            1,
            "requests/sessions.py",
            2,
            10,
            "requests.sessions.Session.get_adapter",
            "\n".join(lines[1:10]),
        ),  # fmt: skip
        block(
            2,
            "requests/sessions.py",
            12,
            14,
            "requests.sessions.Session.mount",
            "\n".join(lines[11:14]),
        ),  # fmt: skip
    ]


def test_a_docstring_gives_its_first_sentence_without_markup():
    assert doc_sentence("\n".join(ADAPTERS.splitlines()[1:10])) == (
        "Returns the appropriate connection adapter for the given URL"
    )
    assert doc_sentence('def f():\n    """Use :class:`Session` or ``get``. More."""') == (
        "Use `Session` or `get`"
    )
    assert doc_sentence("def f():\n    return 1") == ""


def test_comment_docs_of_go_and_jsdoc():
    assert doc_sentence(GO) == (
        "OnlyValidArgs returns an error if there are any positional args that are not in the "
        "`ValidArgs` field of `Command`"
    )
    assert doc_sentence(JSDOC) == "Iterate over all the registered interceptors"


def test_methods_keep_their_class_and_module_code_has_no_name():
    first, second = session_blocks()
    assert defines(first) == "Session.get_adapter"
    js = block(1, "lib/core/AxiosHeaders.js", 1, 3, "lib.core.AxiosHeaders.AxiosHeaders.set",
               "set(header) {\n}")  # fmt: skip
    assert defines(js) == "AxiosHeaders.set"
    assert defines(block(1, "command.go", 1, 5, "command.OnlyValidArgs", GO)) == "OnlyValidArgs"
    assert defines(block(1, "a.py", 1, 2, "", "x = 1")) == ""
    assert defines(block(1, "a.py", 1, 2, "a.missing", "x = 1")) == ""  # not in the text


def test_the_lead_names_both_definitions_and_quotes_the_first_ones_doc():
    lead = lead_sentence(session_blocks())
    assert lead == (
        "The most relevant code is `Session.get_adapter` [1] and `Session.mount` [2] in "
        "requests/sessions.py. `Session.get_adapter`'s documentation says: \"Returns the "
        'appropriate connection adapter for the given URL" [1].'
    )


def test_the_doc_quoted_is_the_first_documented_definitions():
    undocumented = block(1, "requests/sessions.py", 1, 2, "requests.sessions.Session.__init__",
                         "def __init__(self):\n    self.adapters = {}")  # fmt: skip
    lead = lead_sentence([undocumented, session_blocks()[1]])
    assert lead.endswith(
        '`Session.mount`\'s documentation says: "Registers a connection adapter to a prefix" [2].'
    )


def test_a_go_doc_comment_reads_as_a_sentence_about_its_subject():
    lead = lead_sentence([block(1, "args.go", 1, 5, "args.OnlyValidArgs", GO)])
    assert lead.endswith(
        "`OnlyValidArgs` returns an error if there are any positional args that are not in the "
        "`ValidArgs` field of `Command` [1]."
    )


def test_names_the_prose_already_gives_are_not_repeated():
    blocks = session_blocks()
    given = "`get_adapter` picks the adapter by prefix (requests/sessions.py:2-10)."
    assert lead_sentence(blocks, given).startswith(
        "The most relevant code is `Session.mount` [2] in requests/sessions.py."
    )
    cited = "`get_adapter` reads what `mount` registered (requests/sessions.py:2-10)."
    assert lead_sentence(blocks, cited) == ""


def test_a_name_the_prose_cites_to_another_file_is_still_introduced():
    """qwen-0.5b wrote "`settle` checks ... (lib/adapters/xhr.js:40-69)": settle.js uncited."""
    prose = "`get_adapter` reads what `mount` registered (requests/adapters.py:1-9)."
    assert lead_sentence(session_blocks(), prose).startswith(
        "The most relevant code is `Session.get_adapter` [1] and `Session.mount` [2]"
    )


def test_the_cited_lead_verifies_against_the_file(tmp_path: Path):
    (tmp_path / "requests").mkdir()
    (tmp_path / "requests" / "sessions.py").write_text(ADAPTERS)
    blocks = session_blocks()
    text = cite(lead_sentence(blocks), blocks)
    assert "(requests/sessions.py:2-10)" in text and "[1]" not in text
    check = check_answer(text, tmp_path)
    assert check.ok, check.to_json()


def test_three_blocks_are_named_and_a_doc_too_short_to_say_anything_is_not_quoted():
    text = 'def get_redirect_target(self, resp):\n    """Receives a Response. Returns a URI."""'
    symbol = "requests.sessions.SessionRedirectMixin.get_redirect_target"
    redirect = block(3, "requests/sessions.py", 20, 22, symbol, text)
    assert doc_sentence(str(redirect["text"])) == ""
    lead = lead_sentence([*session_blocks(), redirect], "")
    assert lead.startswith(
        "The most relevant code is `Session.get_adapter` [1] and `Session.mount` [2] and "
        "`SessionRedirectMixin.get_redirect_target` [3] in requests/sessions.py."
    )
