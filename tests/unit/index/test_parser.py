"""Structural parsing with tree-sitter: symbols, references, module names, fallbacks."""

from __future__ import annotations

import textwrap

import pytest
import tree_sitter as ts

from app.index.parse.grammars import (
    UnknownLanguageError,
    get_language,
    get_parser,
    load_query,
    supported_languages,
)
from app.index.parse.parser import ParseResult, module_name, parse_source
from app.index.records import ParsedFile, Reference, SourceFile, Symbol

LANGS = ["python", "javascript", "typescript", "tsx", "go", "java", "rust"]


def parse(path: str, language: str, code: str) -> ParseResult:
    text = textwrap.dedent(code).lstrip("\n")
    src = SourceFile(path=path, language=language, text=text, sha="0", size=len(text))
    return parse_source(src)


def by_name(parsed: ParsedFile) -> dict[str, Symbol]:
    table = {s.qualname: s for s in parsed.symbols}
    assert len(table) == len(parsed.symbols), "qualnames must be unique in these fixtures"
    return table


def outline(parsed: ParsedFile) -> list[tuple[str, str, int, int, str | None]]:
    return [(s.qualname, s.kind, s.start_line, s.end_line, s.parent) for s in parsed.symbols]


def refs(parsed: ParsedFile, kind: str) -> list[tuple[int, str, str, str | None]]:
    return [(r.line, r.scope, r.target, r.alias) for r in parsed.references if r.kind == kind]


# --------------------------------------------------------------------------- grammars


@pytest.mark.parametrize("name", LANGS)
def test_grammars_load_and_queries_compile(name: str) -> None:
    assert isinstance(get_language(name), ts.Language)
    assert get_language(name) is get_language(name)
    assert load_query(name) is load_query(name)
    assert load_query(name).pattern_count > 3
    assert get_parser(name).language == get_language(name)


def test_unknown_grammar_names_raise_clear_error() -> None:
    assert supported_languages() == frozenset(LANGS)
    with pytest.raises(UnknownLanguageError, match="cobol"):
        get_language("cobol")
    with pytest.raises(UnknownLanguageError):
        load_query("markdown")
    with pytest.raises(UnknownLanguageError):
        get_parser("")


# --------------------------------------------------------------------------- module names


@pytest.mark.parametrize(
    ("path", "language", "expected"),
    [
        ("pkg/mod.py", "python", "pkg.mod"),
        ("pkg/__init__.py", "python", "pkg"),
        ("__init__.py", "python", "__init__"),
        ("pkg/sub/__main__.py", "python", "pkg.sub.__main__"),
        ("src/a/b.ts", "typescript", "src.a.b"),
        ("a/index.js", "javascript", "a.index"),
        ("ui/App.tsx", "tsx", "ui.App"),
        ("types/api.d.ts", "typescript", "types.api_d"),
        ("src/lib.rs", "rust", "src.lib"),
        ("src/net/mod.rs", "rust", "src.net.mod"),
        ("cmd/my-tool/main.go", "go", "cmd.my_tool.main"),
        ("src/main/java/com/acme/App.java", "java", "src.main.java.com.acme.App"),
        ("./docs/read me.md", "markdown", "docs.read_me"),
        ("Makefile", "config", "Makefile"),
    ],
)
def test_module_name(path: str, language: str, expected: str) -> None:
    assert module_name(path, language) == expected


# --------------------------------------------------------------------------- python

PYTHON = '''
    """Service layer."""
    import numpy as np, os.path
    import json
    from .models import User as U, Group
    from .. import utils
    from x import *

    MAX_SIZE = 10
    lower = 1


    # Join two parts.
    def helper(a, b=2):
        def inner():
            return os.path.join(a, b)
        return inner()


    @dataclass(frozen=True)
    class Service(Base, mod.Mixin, Generic[T], metaclass=Meta):
        """Serve users.

        Keeps a repository.
        """

        LIMIT = 3

        async def get(self, key: str) -> int:
            """Return the value for key."""
            data = self.save(np.array([key]))
            return json.dumps(data)

        class Inner:
            def run(self):
                helper(1)
'''


def test_python_symbols() -> None:
    result = parse("pkg/svc.py", "python", PYTHON)
    parsed = result.parsed
    assert parsed.structural and not parsed.has_syntax_errors and parsed.error is None
    assert parsed.module == "pkg.svc"
    assert isinstance(result.tree, ts.Tree)
    assert outline(parsed) == [
        ("pkg.svc.MAX_SIZE", "constant", 8, 8, "pkg.svc"),
        ("pkg.svc.helper", "function", 13, 16, "pkg.svc"),
        ("pkg.svc.helper.inner", "function", 14, 15, "pkg.svc.helper"),
        ("pkg.svc.Service", "class", 19, 35, "pkg.svc"),
        ("pkg.svc.Service.get", "method", 28, 31, "pkg.svc.Service"),
        ("pkg.svc.Service.Inner", "class", 33, 35, "pkg.svc.Service"),
        ("pkg.svc.Service.Inner.run", "method", 34, 35, "pkg.svc.Service.Inner"),
    ]
    table = by_name(parsed)
    service = table["pkg.svc.Service"]
    assert service.name == "Service" and service.path == "pkg/svc.py"
    assert service.signature == "class Service(Base, mod.Mixin, Generic[T], metaclass=Meta):"
    assert service.doc == "Serve users.\n\nKeeps a repository."
    assert table["pkg.svc.Service.get"].signature == "async def get(self, key: str) -> int:"
    assert table["pkg.svc.Service.get"].doc == "Return the value for key."
    assert table["pkg.svc.helper"].doc == "Join two parts."
    assert table["pkg.svc.helper"].signature == "def helper(a, b=2):"
    assert table["pkg.svc.helper.inner"].doc == ""
    assert table["pkg.svc.MAX_SIZE"].signature == "MAX_SIZE = 10"


def test_python_references() -> None:
    parsed = parse("pkg/svc.py", "python", PYTHON).parsed
    assert refs(parsed, "import") == [
        (2, "pkg.svc", "numpy", "np"),
        (2, "pkg.svc", "os.path", None),
        (3, "pkg.svc", "json", "json"),
        (4, "pkg.svc", ".models.User", "U"),
        (4, "pkg.svc", ".models.Group", "Group"),
        (5, "pkg.svc", "..utils", "utils"),
        (6, "pkg.svc", "x.*", None),
    ]
    assert refs(parsed, "call") == [
        (15, "pkg.svc.helper.inner", "os.path.join", None),
        (16, "pkg.svc.helper", "inner", None),
        (19, "pkg.svc", "dataclass", None),
        (30, "pkg.svc.Service.get", "self.save", None),
        (30, "pkg.svc.Service.get", "np.array", None),
        (31, "pkg.svc.Service.get", "json.dumps", None),
        (35, "pkg.svc.Service.Inner.run", "helper", None),
    ]
    assert refs(parsed, "inherit") == [
        (20, "pkg.svc.Service", "Base", None),
        (20, "pkg.svc.Service", "mod.Mixin", None),
        (20, "pkg.svc.Service", "Generic", None),
    ]
    assert all(isinstance(r, Reference) and r.path == "pkg/svc.py" for r in parsed.references)


# --------------------------------------------------------------------------- javascript

JAVASCRIPT = """
    const path = require('path');
    const { readFile, write: put } = require('./fs');
    import def, { x as y } from './util.js';
    import * as ns from './ns';

    // Repository base.
    // Two lines.
    class Repo extends Base {
      constructor(db) {
        super(db);
        this.db = db;
      }

      /** Find one record. */
      find(id) {
        return this.db.get(id)
          .then((r) => ns.wrap(r));
      }

      handle = (e) => this.find(e.id);
    }

    export function main() {
      const repo = new Repo(new db.Client());
      function nested() { return repo.find(1); }
      return nested();
    }

    export const toUpper = (s) => s.toUpperCase();
    const NAME = 'repo';
    let counter = 0;
    (function () {})();
"""


def test_javascript_symbols() -> None:
    parsed = parse("web/index.js", "javascript", JAVASCRIPT).parsed
    assert parsed.module == "web.index" and parsed.structural
    assert outline(parsed) == [
        ("web.index.Repo", "class", 8, 21, "web.index"),
        ("web.index.Repo.constructor", "method", 9, 12, "web.index.Repo"),
        ("web.index.Repo.find", "method", 15, 18, "web.index.Repo"),
        ("web.index.Repo.handle", "method", 20, 20, "web.index.Repo"),
        ("web.index.main", "function", 23, 27, "web.index"),
        ("web.index.main.nested", "function", 25, 25, "web.index.main"),
        ("web.index.toUpper", "function", 29, 29, "web.index"),
        ("web.index.NAME", "constant", 30, 30, "web.index"),
    ]
    table = by_name(parsed)
    assert table["web.index.Repo"].doc == "Repository base.\nTwo lines."
    assert table["web.index.Repo"].signature == "class Repo extends Base"
    assert table["web.index.Repo.find"].doc == "Find one record."
    assert table["web.index.Repo.find"].signature == "find(id)"
    assert table["web.index.Repo.handle"].signature == "handle = (e) =>"
    assert table["web.index.main"].signature == "function main()"
    assert table["web.index.toUpper"].signature == "const toUpper = (s) =>"
    assert table["web.index.NAME"].signature == "const NAME = 'repo'"


def test_javascript_references() -> None:
    parsed = parse("web/index.js", "javascript", JAVASCRIPT).parsed
    assert refs(parsed, "import") == [
        (1, "web.index", "path", "path"),
        (2, "web.index", "./fs.readFile", "readFile"),
        (2, "web.index", "./fs.write", "put"),
        (3, "web.index", "./util.js.default", "def"),
        (3, "web.index", "./util.js.x", "y"),
        (4, "web.index", "./ns", "ns"),
    ]
    assert refs(parsed, "call") == [
        (10, "web.index.Repo.constructor", "super", None),
        (16, "web.index.Repo.find", "this.db.get", None),
        (17, "web.index.Repo.find", "this.db.get().then", None),
        (17, "web.index.Repo.find", "ns.wrap", None),
        (20, "web.index.Repo.handle", "this.find", None),
        (24, "web.index.main", "Repo", None),
        (24, "web.index.main", "db.Client", None),
        (25, "web.index.main.nested", "repo.find", None),
        (26, "web.index.main", "nested", None),
        (29, "web.index.toUpper", "s.toUpperCase", None),
    ]
    assert refs(parsed, "inherit") == [(8, "web.index.Repo", "Base", None)]


# --------------------------------------------------------------------------- typescript / tsx

TYPESCRIPT = """
    import type { Config } from '../config';
    import Logger, { level as lvl } from "./log";
    import fs = require('fs');

    /**
     * Stores users.
     */
    @Injectable()
    export class UserStore<T> extends BaseStore<T> implements Store, Disposable {
      private cache = new Map<string, T>();

      // Look a user up.
      get(id: string): T | undefined {
        return this.cache.get(id) ?? this.load<T>(id);
      }

      private load<U>(id: string): U {
        return fs.readFileSync(id) as U;
      }
    }

    export interface Store extends Base<string> {
      get(id: string): unknown;
    }

    export type Id = string | number;

    export enum Color { Red, Green }

    export const fetchUser = async (id: Id): Promise<void> => {
      await api.fetch(id);
    };

    namespace Util {
      export function log(m: string) { Logger.info(m); }
    }
"""


def test_typescript_symbols() -> None:
    parsed = parse("src/store.ts", "typescript", TYPESCRIPT).parsed
    assert parsed.module == "src.store"
    assert outline(parsed) == [
        ("src.store.UserStore", "class", 8, 20, "src.store"),
        ("src.store.UserStore.get", "method", 13, 15, "src.store.UserStore"),
        ("src.store.UserStore.load", "method", 17, 19, "src.store.UserStore"),
        ("src.store.Store", "interface", 22, 24, "src.store"),
        ("src.store.Store.get", "method", 23, 23, "src.store.Store"),
        ("src.store.Id", "type", 26, 26, "src.store"),
        ("src.store.Color", "enum", 28, 28, "src.store"),
        ("src.store.fetchUser", "function", 30, 32, "src.store"),
        ("src.store.Util", "module", 34, 36, "src.store"),
        ("src.store.Util.log", "function", 35, 35, "src.store.Util"),
    ]
    table = by_name(parsed)
    store = table["src.store.UserStore"]
    assert store.doc == "Stores users."
    assert store.signature == (
        "class UserStore<T> extends BaseStore<T> implements Store, Disposable"
    )
    assert table["src.store.UserStore.get"].doc == "Look a user up."
    assert table["src.store.UserStore.get"].signature == "get(id: string): T | undefined"
    assert table["src.store.Store"].signature == "interface Store extends Base<string>"
    assert table["src.store.Store.get"].signature == "get(id: string): unknown"
    assert table["src.store.Id"].signature == "type Id = string | number"
    assert table["src.store.fetchUser"].signature == (
        "const fetchUser = async (id: Id): Promise<void> =>"
    )


def test_typescript_references() -> None:
    parsed = parse("src/store.ts", "typescript", TYPESCRIPT).parsed
    assert refs(parsed, "import") == [
        (1, "src.store", "../config.Config", "Config"),
        (2, "src.store", "./log.default", "Logger"),
        (2, "src.store", "./log.level", "lvl"),
        (3, "src.store", "fs", "fs"),
    ]
    assert refs(parsed, "inherit") == [
        (9, "src.store.UserStore", "BaseStore", None),
        (9, "src.store.UserStore", "Store", None),
        (9, "src.store.UserStore", "Disposable", None),
        (22, "src.store.Store", "Base", None),
    ]
    assert refs(parsed, "call") == [
        (8, "src.store", "Injectable", None),
        (10, "src.store.UserStore", "Map", None),
        (14, "src.store.UserStore.get", "this.cache.get", None),
        (14, "src.store.UserStore.get", "this.load", None),
        (18, "src.store.UserStore.load", "fs.readFileSync", None),
        (31, "src.store.fetchUser", "api.fetch", None),
        (35, "src.store.Util.log", "Logger.info", None),
    ]


def test_tsx_component() -> None:
    code = """
        import React, { useState } from 'react';

        // A counter button.
        export function Counter({ start }: Props) {
          const [n, setN] = useState(start);
          const onClick = () => setN(n + 1);
          return <button onClick={onClick}>{format(n)}</button>;
        }
    """
    parsed = parse("ui/Counter.tsx", "tsx", code).parsed
    assert not parsed.has_syntax_errors
    assert outline(parsed) == [
        ("ui.Counter.Counter", "function", 4, 8, "ui.Counter"),
        ("ui.Counter.Counter.onClick", "function", 6, 6, "ui.Counter.Counter"),
    ]
    assert by_name(parsed)["ui.Counter.Counter"].doc == "A counter button."
    assert refs(parsed, "import") == [
        (1, "ui.Counter", "react.default", "React"),
        (1, "ui.Counter", "react.useState", "useState"),
    ]
    assert refs(parsed, "call") == [
        (5, "ui.Counter.Counter", "useState", None),
        (6, "ui.Counter.Counter.onClick", "setN", None),
        (7, "ui.Counter.Counter", "format", None),
    ]


# --------------------------------------------------------------------------- go

GO = """
    package server

    import (
    \tf "fmt"
    \t"net/http"
    )

    const MaxConns = 10

    // Server serves requests.
    // It is safe for concurrent use.
    type Server struct {
    \tBase
    \t*store.Cache
    \tname string
    }

    type Handler interface {
    \tHandle(w http.ResponseWriter)
    }

    type ID = string

    // Handle answers one request.
    func (s *Server) Handle(w http.ResponseWriter) error {
    \tf.Println("x")
    \treturn s.repo.Find(store.Key(w))
    }

    func New() *Server {
    \treturn &Server{}
    }
"""


def test_go_symbols() -> None:
    parsed = parse("pkg/server/server.go", "go", GO).parsed
    m = "pkg.server.server"
    assert parsed.module == m
    assert outline(parsed) == [
        (f"{m}.MaxConns", "constant", 8, 8, m),
        (f"{m}.Server", "struct", 12, 16, m),
        (f"{m}.Handler", "interface", 18, 20, m),
        (f"{m}.ID", "type", 22, 22, m),
        (f"{m}.Server.Handle", "method", 25, 28, f"{m}.Server"),
        (f"{m}.New", "function", 30, 32, m),
    ]
    table = by_name(parsed)
    assert table[f"{m}.Server"].doc == "Server serves requests.\nIt is safe for concurrent use."
    assert table[f"{m}.Server"].signature == "type Server struct"
    assert table[f"{m}.Handler"].signature == "type Handler interface"
    assert table[f"{m}.Server.Handle"].doc == "Handle answers one request."
    assert table[f"{m}.Server.Handle"].signature == (
        "func (s *Server) Handle(w http.ResponseWriter) error"
    )
    assert table[f"{m}.New"].signature == "func New() *Server"


def test_go_references() -> None:
    parsed = parse("pkg/server/server.go", "go", GO).parsed
    m = "pkg.server.server"
    assert refs(parsed, "import") == [(4, m, "fmt", "f"), (5, m, "net/http", "http")]
    assert refs(parsed, "inherit") == [
        (13, f"{m}.Server", "Base", None),
        (14, f"{m}.Server", "store.Cache", None),
    ]
    assert refs(parsed, "call") == [
        (26, f"{m}.Server.Handle", "f.Println", None),
        (27, f"{m}.Server.Handle", "s.repo.Find", None),
        (27, f"{m}.Server.Handle", "store.Key", None),
    ]


# --------------------------------------------------------------------------- java

JAVA = """
    package com.acme;

    import java.util.List;
    import static java.util.Objects.requireNonNull;
    import com.acme.repo.*;

    /**
     * Manages users.
     */
    @Service
    public class UserService extends BaseService<User> implements Closeable, com.acme.Api {
        public static final int MAX = 10;
        private final Repo repo;

        // Build the service.
        public UserService(Repo repo) {
            super();
            this.repo = requireNonNull(repo);
        }

        /** Find a user. */
        @Override
        public List<User> find(String id) {
            return this.repo.find(id).stream().map(x -> new User<>(x)).toList();
        }

        interface Listener extends EventListener {
            void on(User u);
        }
    }
"""


def test_java_symbols() -> None:
    parsed = parse("src/com/acme/UserService.java", "java", JAVA).parsed
    m = "src.com.acme.UserService"
    c = f"{m}.UserService"
    assert outline(parsed) == [
        (c, "class", 10, 30, m),
        (f"{c}.MAX", "constant", 12, 12, c),
        (f"{c}.UserService", "method", 16, 19, c),
        (f"{c}.find", "method", 22, 25, c),
        (f"{c}.Listener", "interface", 27, 29, c),
        (f"{c}.Listener.on", "method", 28, 28, f"{c}.Listener"),
    ]
    table = by_name(parsed)
    assert table[c].doc == "Manages users."
    assert table[c].signature == (
        "public class UserService extends BaseService<User> implements Closeable, com.acme.Api"
    )
    assert table[f"{c}.UserService"].doc == "Build the service."
    assert table[f"{c}.find"].doc == "Find a user."
    assert table[f"{c}.find"].signature == "public List<User> find(String id)"
    assert table[f"{c}.MAX"].signature == "public static final int MAX = 10"
    assert table[f"{c}.Listener.on"].signature == "void on(User u)"


def test_java_references() -> None:
    parsed = parse("src/com/acme/UserService.java", "java", JAVA).parsed
    m = "src.com.acme.UserService"
    c = f"{m}.UserService"
    assert refs(parsed, "import") == [
        (3, m, "java.util.List", "List"),
        (4, m, "java.util.Objects.requireNonNull", "requireNonNull"),
        (5, m, "com.acme.repo.*", None),
    ]
    assert refs(parsed, "inherit") == [
        (11, c, "BaseService", None),
        (11, c, "Closeable", None),
        (11, c, "com.acme.Api", None),
        (27, f"{c}.Listener", "EventListener", None),
    ]
    assert refs(parsed, "call") == [
        (18, f"{c}.UserService", "requireNonNull", None),
        (24, f"{c}.find", "this.repo.find", None),
        (24, f"{c}.find", "this.repo.find().stream", None),
        (24, f"{c}.find", "this.repo.find().stream().map", None),
        (24, f"{c}.find", "this.repo.find().stream().map().toList", None),
        (24, f"{c}.find", "User", None),
    ]


# --------------------------------------------------------------------------- rust

RUST = """
    use crate::geo::point as pt;
    use std::{io::{self, Read}, fs, collections::*};

    /// A point in 2D.
    /// Immutable.
    #[derive(Debug, Clone)]
    pub struct Point<T> {
        x: T,
    }

    impl<T> Point<T> {
        /// Make a point.
        pub fn new(x: T) -> Self {
            helper();
            Point { x }
        }
    }

    impl<T> fmt::Display for Point<T> {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            self.x.render(f);
            Vec::<u8>::new();
            write!(f, "p")
        }
    }

    pub trait Shape {
        fn area(&self) -> f64;
    }

    pub enum Kind { A, B }

    pub const ORIGIN: i32 = 0;

    fn helper() {
        fn nested() {}
        nested();
    }
"""


def test_rust_symbols() -> None:
    parsed = parse("src/lib.rs", "rust", RUST).parsed
    assert parsed.module == "src.lib"
    assert outline(parsed) == [
        ("src.lib.Point", "struct", 6, 9, "src.lib"),
        ("src.lib.Point.new", "method", 13, 16, "src.lib.Point"),
        ("src.lib.Point.fmt", "method", 20, 24, "src.lib.Point"),
        ("src.lib.Shape", "trait", 27, 29, "src.lib"),
        ("src.lib.Shape.area", "method", 28, 28, "src.lib.Shape"),
        ("src.lib.Kind", "enum", 31, 31, "src.lib"),
        ("src.lib.ORIGIN", "constant", 33, 33, "src.lib"),
        ("src.lib.helper", "function", 35, 38, "src.lib"),
        ("src.lib.helper.nested", "function", 36, 36, "src.lib.helper"),
    ]
    table = by_name(parsed)
    assert table["src.lib.Point"].doc == "A point in 2D.\nImmutable."
    assert table["src.lib.Point"].signature == "pub struct Point<T>"
    assert table["src.lib.Point.new"].doc == "Make a point."
    assert table["src.lib.Point.new"].signature == "pub fn new(x: T) -> Self"
    assert table["src.lib.Shape.area"].signature == "fn area(&self) -> f64"
    assert table["src.lib.ORIGIN"].signature == "pub const ORIGIN: i32 = 0"


def test_rust_references() -> None:
    parsed = parse("src/lib.rs", "rust", RUST).parsed
    assert refs(parsed, "import") == [
        (1, "src.lib", "crate::geo::point", "pt"),
        (2, "src.lib", "std::io", "io"),
        (2, "src.lib", "std::io::Read", "Read"),
        (2, "src.lib", "std::fs", "fs"),
        (2, "src.lib", "std::collections::*", None),
    ]
    assert refs(parsed, "inherit") == [(19, "src.lib.Point", "fmt::Display", None)]
    assert refs(parsed, "call") == [
        (14, "src.lib.Point.new", "helper", None),
        (21, "src.lib.Point.fmt", "self.x.render", None),
        (22, "src.lib.Point.fmt", "Vec::new", None),
        (37, "src.lib.helper", "nested", None),
    ]


# --------------------------------------------------------------------------- fallbacks


def test_syntax_errors_keep_symbols() -> None:
    code = """
        class A:
            def ok(self):
                return 1

            def broken(self:
                pass

        def after():
            return compute(1)
    """
    result = parse("bad.py", "python", code)
    parsed = result.parsed
    assert parsed.structural and parsed.has_syntax_errors
    assert parsed.error is not None and "syntax error" in parsed.error
    assert result.tree is not None
    names = {s.qualname for s in parsed.symbols}
    assert {"bad.A", "bad.A.ok", "bad.after"} <= names
    assert ("call", "bad.after", "compute") in {
        (r.kind, r.scope, r.target) for r in parsed.references
    }


@pytest.mark.parametrize("language", ["markdown", "config", "text", "cobol"])
def test_non_code_is_not_structural(language: str) -> None:
    result = parse("docs/guide.md", language, "# Title\n\ndef f(): pass\n")
    assert result.tree is None
    assert result.parsed.structural is False
    assert result.parsed.symbols == [] and result.parsed.references == []
    assert result.parsed.module == "docs.guide"
    assert result.parsed.error is None


@pytest.mark.parametrize("language", LANGS)
def test_garbage_does_not_raise(language: str) -> None:
    junk = "".join(chr((i * 7919) % 0x2FFF + 1) for i in range(4000)) + "\x00\ud800{{((["
    result = parse("junk.bin", language, junk)
    assert result.parsed.structural
    assert result.parsed.has_syntax_errors
    for symbol in result.parsed.symbols:
        assert 1 <= symbol.start_line <= symbol.end_line


def test_extraction_failure_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.index.parse.parser as parser_module

    def boom(*_args: object) -> None:
        raise RuntimeError("query exploded")

    monkeypatch.setattr(parser_module, "extract", boom)
    result = parse("pkg/mod.py", "python", "def f():\n    pass\n")
    assert result.tree is None
    assert result.parsed.structural is False
    assert result.parsed.error == "RuntimeError: query exploded"
    assert result.parsed.symbols == []


def test_parsed_file_round_trips_through_json() -> None:
    parsed = parse("pkg/svc.py", "python", PYTHON).parsed
    assert ParsedFile.from_json(parsed.to_json()) == parsed


def test_member_decorators_join_the_span_and_constants_are_not_scopes() -> None:
    code = """
        const LIMIT = compute(3);
        class Widget {
          /** React to clicks. */
          @HostListener('click')
          onClick(e: Event) { this.go(e); }
        }
    """
    parsed = parse("ui/widget.ts", "typescript", code).parsed
    assert outline(parsed) == [
        ("ui.widget.LIMIT", "constant", 1, 1, "ui.widget"),
        ("ui.widget.Widget", "class", 2, 6, "ui.widget"),
        ("ui.widget.Widget.onClick", "method", 4, 5, "ui.widget.Widget"),
    ]
    assert by_name(parsed)["ui.widget.Widget.onClick"].doc == "React to clicks."
    assert by_name(parsed)["ui.widget.Widget.onClick"].signature == "onClick(e: Event)"
    assert refs(parsed, "call") == [
        (1, "ui.widget", "compute", None),
        (4, "ui.widget.Widget", "HostListener", None),
        (5, "ui.widget.Widget.onClick", "this.go", None),
    ]
