"""Code graph: cross-language call resolution, queries, persistence, determinism."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from app.codegraph.build import CallSite, CodeGraph, build_graph
from app.index.records import ParsedFile, Reference, Symbol


def sym(
    qualname: str, kind: str, path: str, start: int, end: int, parent: str, sig: str = ""
) -> Symbol:
    return Symbol(qualname, qualname.rsplit(".", 1)[-1], kind, path, start, end, sig, "", parent)  # type: ignore[arg-type]


def call(path: str, line: int, scope: str, target: str) -> Reference:
    return Reference("call", path, line, scope, target)


def imp(path: str, line: int, scope: str, target: str, alias: str | None = None) -> Reference:
    return Reference("import", path, line, scope, target, alias)


def inherit(path: str, line: int, scope: str, target: str) -> Reference:
    return Reference("inherit", path, line, scope, target)


def pf(
    path: str, module: str, language: str, symbols: list[Symbol], refs: list[Reference]
) -> ParsedFile:
    return ParsedFile(path, language, module, symbols, refs)


def calls_from(graph: CodeGraph, node: str) -> dict[str, dict]:
    return {
        v: d for _, v, k, d in graph.graph.out_edges(node, keys=True, data=True) if k == "calls"
    }


# ----------------------------------------------------------------------------- python fixture
M = "pkg/models.py"
S = "pkg/service.py"
D = "pkg/diamond.py"


def python_files() -> dict[str, ParsedFile]:
    models = pf(
        M,
        "pkg.models",
        "python",
        [
            sym("pkg.models.Base", "class", M, 1, 8, "pkg.models"),
            sym("pkg.models.Base.__init__", "method", M, 2, 3, "pkg.models.Base"),
            sym("pkg.models.Base.save", "method", M, 4, 5, "pkg.models.Base"),
            sym("pkg.models.Base.make", "method", M, 6, 8, "pkg.models.Base"),
            sym("pkg.models.User", "class", M, 10, 14, "pkg.models"),
            sym("pkg.models.User.greet", "method", M, 11, 12, "pkg.models.User"),
            sym("pkg.models.Other", "class", M, 16, 18, "pkg.models"),
            sym("pkg.models.Other.save", "method", M, 17, 18, "pkg.models.Other"),
            sym("pkg.models.helper", "function", M, 20, 21, "pkg.models"),
        ],
        [
            call(M, 8, "pkg.models.Base.make", "cls"),
            inherit(M, 10, "pkg.models", "Base"),
            call(M, 12, "pkg.models.User.greet", "self.save"),
        ],
    )
    service = pf(
        S,
        "pkg.service",
        "python",
        [
            sym("pkg.service.run", "function", S, 5, 12, "pkg.service"),
            sym("pkg.service.other", "function", S, 14, 15, "pkg.service"),
        ],
        [
            imp(S, 1, "pkg.service", ".models.User", "U"),
            imp(S, 2, "pkg.service", "pkg.models", "m"),
            imp(S, 3, "pkg.service", "os"),
            call(S, 6, "pkg.service.run", "U"),
            call(S, 7, "pkg.service.run", "m.helper"),
            call(S, 8, "pkg.service.run", "obj.save"),
            call(S, 9, "pkg.service.run", "print"),
            call(S, 10, "pkg.service.run", "os.path.join"),
            call(S, 11, "pkg.service.run", "U.make"),
            call(S, 15, "pkg.service.other", "m.helper"),
            call(S, 16, "pkg.service", "run"),
        ],
    )
    diamond = pf(
        D,
        "pkg.diamond",
        "python",
        [
            sym("pkg.diamond.A", "class", D, 1, 2, "pkg.diamond"),
            sym("pkg.diamond.A.f", "method", D, 2, 2, "pkg.diamond.A"),
            sym("pkg.diamond.B", "class", D, 3, 3, "pkg.diamond"),
            sym("pkg.diamond.C", "class", D, 4, 5, "pkg.diamond"),
            sym("pkg.diamond.C.f", "method", D, 5, 5, "pkg.diamond.C"),
            sym("pkg.diamond.D", "class", D, 6, 9, "pkg.diamond"),
            sym("pkg.diamond.D.g", "method", D, 7, 9, "pkg.diamond.D"),
        ],
        [
            inherit(D, 3, "pkg.diamond.B", "A"),
            inherit(D, 4, "pkg.diamond.C", "A"),
            inherit(D, 6, "pkg.diamond.D", "B"),
            inherit(D, 6, "pkg.diamond.D", "C"),
            call(D, 8, "pkg.diamond.D.g", "self.f"),
            call(D, 9, "pkg.diamond.D.g", "super().f"),
        ],
    )
    init = pf(
        "pkg/__init__.py",
        "pkg",
        "python",
        [],
        [imp("pkg/__init__.py", 1, "pkg", ".models.helper", "helper")],
    )
    return {f.path: f for f in (models, service, diamond, init)}


@pytest.fixture(scope="module")
def py_graph() -> CodeGraph:
    return build_graph(python_files())


def test_python_alias_relative_import_and_instantiation(py_graph: CodeGraph) -> None:
    out = calls_from(py_graph, "sym:pkg.service.run")
    # ``U()`` with ``from .models import User as U``: User has no __init__, Base's runs (MRO)
    assert out["sym:pkg.models.Base.__init__"]["lines"] == (6,)
    assert out["sym:pkg.models.helper"]["resolved"] is True  # ``import pkg.models as m``
    assert out["sym:pkg.models.Base.make"]["lines"] == (11,)  # classmethod inherited by User
    assert out["ext:print"]["status"] == "external"
    assert out["ext:os.path.join"]["status"] == "external"
    assert py_graph.graph.nodes["ext:os.path.join"]["kind"] == "external"
    imports = {
        v for _, v, k in py_graph.graph.out_edges("mod:pkg.service", keys=True) if k == "imports"
    }
    assert imports == {"sym:pkg.models.User", "mod:pkg.models", "ext:os"}
    assert ("mod:pkg", "sym:pkg.models.helper", "imports") in py_graph.graph.edges
    # module-level code is its module's call site
    assert "sym:pkg.service.run" in calls_from(py_graph, "mod:pkg.service")


def test_self_cls_and_inherited_methods(py_graph: CodeGraph) -> None:
    assert "sym:pkg.models.Base.save" in calls_from(py_graph, "sym:pkg.models.User.greet")
    # ``cls()`` inside a classmethod instantiates the class: its __init__
    assert "sym:pkg.models.Base.__init__" in calls_from(py_graph, "sym:pkg.models.Base.make")
    assert ("sym:pkg.models.User", "sym:pkg.models.Base", "inherits") in py_graph.graph.edges


def test_c3_mro_and_super(py_graph: CodeGraph) -> None:
    out = calls_from(py_graph, "sym:pkg.diamond.D.g")
    # D(B, C), B(A), C(A): C3 gives D B C A, so self.f is C.f (depth-first would say A.f)
    assert "sym:pkg.diamond.C.f" in out
    assert "sym:pkg.diamond.A.f" not in out
    # super().f from D also starts after D: C.f
    assert out["sym:pkg.diamond.C.f"]["lines"] == (8, 9)


def test_unresolved_call_is_explicit_and_ambiguous_name_not_guessed(py_graph: CodeGraph) -> None:
    out = calls_from(py_graph, "sym:pkg.service.run")
    edge = out["ext:obj.save"]
    assert edge["resolved"] is False and edge["status"] == "unresolved"
    assert set(edge["candidates"]) == {"pkg.models.Base.save", "pkg.models.Other.save"}
    assert "sym:pkg.models.Base.save" not in out and "sym:pkg.models.Other.save" not in out
    assert py_graph.graph.nodes["ext:obj.save"]["kind"] == "unresolved"


def test_callers_callees_definitions(py_graph: CodeGraph) -> None:
    callers = py_graph.callers("pkg.models.helper")
    assert callers == [
        CallSite("pkg.service.run", S, 7, True),
        CallSite("pkg.service.other", S, 15, True),
    ]
    # a short name resolves; the unresolved ``obj.save`` site shows up flagged, never as resolved
    save_callers = py_graph.callers("Other.save")
    assert save_callers == [CallSite("pkg.service.run", S, 8, False)]
    assert CallSite("pkg.models.User.greet", M, 12, True) in py_graph.callers("Base.save")
    # a class's callers include its constructor's
    assert CallSite("pkg.service.run", S, 6, True) in py_graph.callers("pkg.models.Base")
    callees = py_graph.callees("run")
    assert [c.qualname for c in callees][:3] == [
        "pkg.models.Base.__init__",
        "pkg.models.helper",
        "obj.save",
    ]
    assert py_graph.definitions("save") == ["pkg.models.Base.save", "pkg.models.Other.save"]
    assert py_graph.definitions("pkg.models.User") == ["pkg.models.User"]
    assert py_graph.definitions("models.helper") == ["pkg.models.helper"]
    assert py_graph.definitions("nothing_here") == []
    # call_sites resolves a short name first, then lists the sites of its first definition
    assert py_graph.call_sites("helper", "callers") == (["pkg.models.helper"], callers)
    defs, sites = py_graph.call_sites("run", "callees")
    assert defs == ["pkg.service.run"] and sites == callees
    assert py_graph.call_sites("nothing_here", "callers") == ([], [])


def test_definitions_rank_classes_and_functions_first() -> None:
    p = "a.py"
    f = pf(
        p,
        "a",
        "python",
        [
            sym("a.item", "variable", p, 1, 1, "a"),
            sym("a.K", "class", p, 2, 4, "a"),
            sym("a.K.item", "method", p, 3, 4, "a.K"),
        ],
        [],
    )
    g = build_graph({p: f})
    assert g.definitions("item") == ["a.K.item", "a.item"]
    assert g.definitions("a.item") == ["a.item"]


def test_neighbourhood_and_pagerank(py_graph: CodeGraph) -> None:
    near = py_graph.neighbourhood(["pkg.service.other"], k=1)
    assert near == {"pkg.service.other", "pkg.models.helper"}
    two = py_graph.neighbourhood(["pkg.service.other"], k=2, kinds=("calls",))
    assert "pkg.service.run" in two and "pkg.models.Base.save" not in two
    ranks = py_graph.pagerank()
    assert abs(sum(ranks.values()) - 1.0) < 1e-6
    seeded = py_graph.pagerank({"pkg.models.Other": 1.0})
    # Other and Other.save are both nodes nobody reaches; the seed outranks its unseeded peer
    assert ranks["pkg.models.Other"] == pytest.approx(ranks["pkg.models.Other.save"])
    assert seeded["pkg.models.Other"] > 10 * seeded["pkg.models.Other.save"]
    # the callee every caller reaches ranks above its callers
    assert ranks["pkg.models.helper"] > ranks["pkg.service.other"]
    assert py_graph.pagerank() == ranks  # cached global rank


def test_save_load_round_trip(py_graph: CodeGraph, tmp_path: Path) -> None:
    path = tmp_path / "idx" / "graph.pkl"
    py_graph.save(path)
    loaded = CodeGraph.load(path)
    assert list(loaded.graph.nodes(data=True)) == list(py_graph.graph.nodes(data=True))
    assert list(loaded.graph.edges(keys=True, data=True)) == list(
        py_graph.graph.edges(keys=True, data=True)
    )
    assert loaded.stats() == py_graph.stats()
    assert loaded.callers("pkg.models.helper") == py_graph.callers("pkg.models.helper")
    (tmp_path / "bad.pkl").write_bytes(b"\x80\x05N.")
    with pytest.raises(ValueError):
        CodeGraph.load(tmp_path / "bad.pkl")


def test_deterministic_under_input_order() -> None:
    files = python_files()
    a = build_graph(files)
    b = build_graph(dict(reversed(list(files.items()))))
    assert list(a.graph.nodes(data=True)) == list(b.graph.nodes(data=True))
    assert list(a.graph.edges(keys=True, data=True)) == list(b.graph.edges(keys=True, data=True))


def test_stats(py_graph: CodeGraph) -> None:
    stats = py_graph.stats()
    assert stats["nodes_by_kind"]["file"] == 4
    assert stats["symbols"] == 18
    assert stats["edges"] == {"calls": 11, "contains": 22, "imports": 4, "inherits": 5}
    assert stats["nodes_by_kind"]["unresolved"] == 1  # obj.save
    assert (stats["calls_resolved"], stats["calls_unresolved"], stats["calls_external"]) == (
        9,
        1,
        2,
    )


def test_python_calls_replace_generic_resolution_for_covered_callers() -> None:
    pyflow = {
        "pkg.service.run": {
            "pkg.models.User.greet",
            "<builtin>.print",
            "ext.os.path.join",
            "pkg.models.helper",
        },
    }
    g = build_graph(python_files(), pyflow)
    out = calls_from(g, "sym:pkg.service.run")
    assert out["sym:pkg.models.User.greet"]["via"] == "pyflow"
    assert out["sym:pkg.models.helper"]["lines"] == (7,)  # line taken from the written call
    assert out["ext:print"]["status"] == "external" and out["ext:os.path.join"]["resolved"] is False
    # pyflow did not list Base.__init__ or Base.make for run: the generic guesses are dropped
    assert "sym:pkg.models.Base.__init__" not in out and "sym:pkg.models.Base.make" not in out
    # a call pyflow could not name stays as an explicit unresolved edge
    assert out["ext:obj.save"]["resolved"] is False
    # callers pyflow did not cover keep the generic resolution
    assert calls_from(g, "sym:pkg.service.other")["sym:pkg.models.helper"]["via"] == "generic"


# ----------------------------------------------------------------------------- other languages
def test_javascript_relative_imports_and_index_files() -> None:
    files = [
        pf(
            "src/util.js",
            "src.util",
            "javascript",
            [sym("src.util.a", "function", "src/util.js", 1, 2, "src.util")],
            [],
        ),
        pf(
            "src/lib/index.ts",
            "src.lib.index",
            "typescript",
            [
                sym("src.lib.index.Repo", "class", "src/lib/index.ts", 1, 5, "src.lib.index"),
                sym(
                    "src.lib.index.Repo.constructor",
                    "method",
                    "src/lib/index.ts",
                    2,
                    3,
                    "src.lib.index.Repo",
                ),
                sym(
                    "src.lib.index.Repo.save",
                    "method",
                    "src/lib/index.ts",
                    4,
                    5,
                    "src.lib.index.Repo",
                ),
            ],
            [call("src/lib/index.ts", 3, "src.lib.index.Repo.constructor", "this.save")],
        ),
        pf(
            "src/app.js",
            "src.app",
            "javascript",
            [sym("src.app.main", "function", "src/app.js", 4, 9, "src.app")],
            [
                imp("src/app.js", 1, "src.app", "./util.a", "b"),
                imp("src/app.js", 2, "src.app", "./lib.Repo", "Repo"),
                imp("src/app.js", 3, "src.app", "react.useState", "useState"),
                call("src/app.js", 5, "src.app.main", "b"),
                call("src/app.js", 6, "src.app.main", "new Repo"),
                call("src/app.js", 7, "src.app.main", "useState"),
                call("src/app.js", 8, "src.app.main", "new Repo().save"),
            ],
        ),
    ]
    g = build_graph({f.path: f for f in files})
    out = calls_from(g, "sym:src.app.main")
    assert out["sym:src.util.a"]["lines"] == (5,)
    assert out["sym:src.lib.index.Repo.constructor"]["lines"] == (6,)
    assert out["sym:src.lib.index.Repo.save"]["lines"] == (8,)
    assert out["ext:react.useState"]["status"] == "external"
    assert "sym:src.lib.index.Repo.save" in calls_from(g, "sym:src.lib.index.Repo.constructor")


def test_go_same_package_and_imported_package() -> None:
    util1, util2, main = "pkg/util/strings.go", "pkg/util/helpers.go", "cmd/app/main.go"
    files = [
        pf(
            util1,
            "pkg.util.strings",
            "go",
            [
                sym("pkg.util.strings.Reverse", "function", util1, 3, 6, "pkg.util.strings"),
                sym("pkg.util.strings.Repo", "struct", util1, 8, 9, "pkg.util.strings"),
            ],
            [call(util1, 4, "pkg.util.strings.Reverse", "helper")],
        ),
        pf(
            util2,
            "pkg.util.helpers",
            "go",
            [
                sym("pkg.util.helpers.helper", "function", util2, 1, 2, "pkg.util.helpers"),
                # a method declared in another file than its type
                sym(
                    "pkg.util.helpers.Repo.Save",
                    "method",
                    util2,
                    4,
                    6,
                    "pkg.util.helpers.Repo",
                    "func (r *Repo) Save() error {",
                ),
                sym(
                    "pkg.util.helpers.Repo.check",
                    "method",
                    util2,
                    7,
                    8,
                    "pkg.util.helpers.Repo",
                    "func (r Repo) check() {",
                ),
            ],
            [call(util2, 5, "pkg.util.helpers.Repo.Save", "r.check")],
        ),
        pf(
            main,
            "cmd.app.main",
            "go",
            [sym("cmd.app.main.main", "function", main, 5, 9, "cmd.app.main")],
            [
                imp(main, 1, "cmd.app.main", "fmt"),
                imp(main, 2, "cmd.app.main", "github.com/acme/repo/pkg/util"),
                call(main, 6, "cmd.app.main.main", "util.Reverse"),
                call(main, 7, "cmd.app.main.main", "fmt.Println"),
                call(main, 8, "cmd.app.main.main", "len"),
            ],
        ),
    ]
    g = build_graph({f.path: f for f in files})
    assert "sym:pkg.util.helpers.helper" in calls_from(g, "sym:pkg.util.strings.Reverse")
    out = calls_from(g, "sym:cmd.app.main.main")
    assert out["sym:pkg.util.strings.Reverse"]["resolved"] is True
    assert out["ext:fmt.Println"]["status"] == "external"
    assert out["ext:len"]["status"] == "external"
    assert "sym:pkg.util.helpers.Repo.check" in calls_from(g, "sym:pkg.util.helpers.Repo.Save")
    assert (
        "sym:pkg.util.strings.Repo",
        "sym:pkg.util.helpers.Repo.Save",
        "contains",
    ) in g.graph.edges
    imports = {v for _, v, k in g.graph.out_edges("mod:cmd.app.main", keys=True) if k == "imports"}
    assert imports == {"ext:fmt", "mod:pkg.util.helpers", "mod:pkg.util.strings"}


def test_java_imported_class_constructor_and_method() -> None:
    repo, app = "src/main/java/com/x/Repo.java", "src/main/java/com/y/App.java"
    rq = "src.main.java.com.x.Repo"
    aq = "src.main.java.com.y.App"
    files = [
        pf(
            repo,
            rq,
            "java",
            [
                sym(f"{rq}.Repo", "class", repo, 1, 9, rq),
                sym(f"{rq}.Repo.Repo", "method", repo, 2, 3, f"{rq}.Repo"),
                sym(f"{rq}.Repo.save", "method", repo, 4, 6, f"{rq}.Repo"),
                sym(f"{rq}.Repo.flush", "method", repo, 7, 8, f"{rq}.Repo"),
            ],
            [call(repo, 5, f"{rq}.Repo.save", "flush")],  # implicit ``this``
        ),
        pf(
            app,
            aq,
            "java",
            [
                sym(f"{aq}.App", "class", app, 3, 8, aq),
                sym(f"{aq}.App.run", "method", app, 4, 7, f"{aq}.App"),
            ],
            [
                imp(app, 1, aq, "com.x.Repo", "Repo"),
                call(app, 5, f"{aq}.App.run", "new Repo"),
                call(app, 5, f"{aq}.App.run", "new Repo().save"),
                call(app, 6, f"{aq}.App.run", "System.out.println"),
            ],
        ),
    ]
    g = build_graph({f.path: f for f in files})
    out = calls_from(g, f"sym:{aq}.App.run")
    assert out[f"sym:{rq}.Repo.Repo"]["lines"] == (5,)
    assert out[f"sym:{rq}.Repo.save"]["lines"] == (5,)
    assert out["ext:System.out.println"]["status"] == "external"
    assert f"sym:{rq}.Repo.flush" in calls_from(g, f"sym:{rq}.Repo.save")
    assert (f"mod:{aq}", f"sym:{rq}.Repo", "imports") in g.graph.edges


def test_rust_type_new_and_crate_paths() -> None:
    files = [
        pf("src/lib.rs", "src.lib", "rust", [], []),
        pf(
            "src/store.rs",
            "src.store",
            "rust",
            [
                sym("src.store.Store", "struct", "src/store.rs", 1, 2, "src.store"),
                sym("src.store.Store.new", "method", "src/store.rs", 4, 6, "src.store.Store"),
                sym("src.store.Store.init", "method", "src/store.rs", 7, 8, "src.store.Store"),
                sym("src.store.helper", "function", "src/store.rs", 10, 11, "src.store"),
            ],
            [call("src/store.rs", 5, "src.store.Store.new", "Self::init")],
        ),
        pf(
            "src/app.rs",
            "src.app",
            "rust",
            [sym("src.app.run", "function", "src/app.rs", 3, 7, "src.app")],
            [
                imp("src/app.rs", 1, "src.app", "crate::store::Store"),
                imp("src/app.rs", 2, "src.app", "std::collections::HashMap"),
                call("src/app.rs", 4, "src.app.run", "Store::new"),
                call("src/app.rs", 5, "src.app.run", "crate::store::helper"),
                call("src/app.rs", 6, "src.app.run", "HashMap::new"),
                call("src/app.rs", 7, "src.app.run", "println!"),
            ],
        ),
    ]
    g = build_graph({f.path: f for f in files})
    out = calls_from(g, "sym:src.app.run")
    assert out["sym:src.store.Store.new"]["lines"] == (4,)
    assert out["sym:src.store.helper"]["lines"] == (5,)
    assert out["ext:std.collections.HashMap.new"]["status"] == "external"
    assert out["ext:println!"]["status"] == "external"
    assert "sym:src.store.Store.init" in calls_from(g, "sym:src.store.Store.new")


def test_super_calls_default_and_namespace_imports_and_same_package_java() -> None:
    u, a = "web/util.js", "web/app.ts"
    base, sub = "src/main/java/com/x/Base.java", "src/main/java/com/x/Sub.java"
    bq, sq = "src.main.java.com.x.Base", "src.main.java.com.x.Sub"
    files = [
        pf(
            u,
            "web.util",
            "javascript",
            [
                sym("web.util.Base", "class", u, 1, 3, "web.util"),
                sym("web.util.Base.constructor", "method", u, 2, 2, "web.util.Base"),
                sym("web.util.main", "function", u, 4, 4, "web.util"),
            ],
            [],
        ),
        pf(
            a,
            "web.app",
            "typescript",
            [
                sym("web.app.K", "class", a, 3, 6, "web.app"),
                sym("web.app.K.constructor", "method", a, 4, 6, "web.app.K"),
            ],
            [
                imp(a, 1, "web.app", "./util.default", "main"),
                imp(a, 2, "web.app", "./util", "U"),
                inherit(a, 3, "web.app.K", "U.Base"),
                call(a, 4, "web.app.K.constructor", "super"),
                call(a, 5, "web.app.K.constructor", "main"),
                call(a, 6, "web.app.K.constructor", "U.main"),
            ],
        ),
        pf(
            base,
            bq,
            "java",
            [
                sym(f"{bq}.Base", "class", base, 2, 4, bq),
                sym(f"{bq}.Base.init", "method", base, 3, 3, f"{bq}.Base"),
            ],
            [],
        ),
        pf(
            sub,
            sq,
            "java",
            [
                sym(f"{sq}.Sub", "class", sub, 2, 5, sq),
                sym(f"{sq}.Sub.run", "method", sub, 3, 4, f"{sq}.Sub"),
            ],
            [inherit(sub, 2, f"{sq}.Sub", "Base"), call(sub, 4, f"{sq}.Sub.run", "init")],
        ),
        pf(
            "m.py",
            "m",
            "python",
            [
                sym("m.A", "class", "m.py", 1, 3, "m"),
                sym("m.A.__init__", "method", "m.py", 2, 3, "m.A"),
            ],
            [
                call("m.py", 3, "m.A.__init__", "super"),
                call("m.py", 3, "m.A.__init__", "super().__init__"),
            ],
        ),
    ]
    g = build_graph({f.path: f for f in files})
    out = calls_from(g, "sym:web.app.K.constructor")
    assert out["sym:web.util.Base.constructor"]["lines"] == (4,)  # super() -> base constructor
    assert out["sym:web.util.main"]["lines"] == (5, 6)  # default import and namespace member
    assert ("sym:web.app.K", "sym:web.util.Base", "inherits") in g.graph.edges
    assert (
        "sym:" + sq + ".Sub",
        "sym:" + bq + ".Base",
        "inherits",
    ) in g.graph.edges  # same package
    assert f"sym:{bq}.Base.init" in calls_from(g, f"sym:{sq}.Sub.run")  # implicit this, inherited
    py = calls_from(g, "sym:m.A.__init__")
    assert py["ext:super"]["status"] == "external"
    assert py["ext:object.__init__"]["status"] == "external"


@pytest.mark.parametrize("alpha", [0.5, 0.85])
def test_seeded_pagerank_matches_networkx_over_the_whole_graph(alpha: float) -> None:
    """The seeded rank runs on the seeds' reachable symbols only; it must equal the full one."""
    import random

    rng = random.Random(7)
    g = nx.MultiDiGraph()
    names = [f"m.f{i}" for i in range(300)] + ["other.f5", "m.leaf"]
    g.add_nodes_from((f"sym:{n}", {"kind": "function", "name": n.split(".")[-1]}) for n in names)
    weighted = nx.DiGraph()
    weighted.add_nodes_from(names)

    def call(u: str, v: str, sites: int) -> None:
        if not g.has_edge(f"sym:{u}", f"sym:{v}", "calls"):
            g.add_edge(f"sym:{u}", f"sym:{v}", "calls", kind="calls", lines=list(range(sites)))
            weighted.add_edge(u, v, weight=float(sites))

    for _ in range(500):  # sparse: most symbols are out of reach of any given seed
        u, v = rng.sample(names[:200], 2) if rng.random() < 0.9 else rng.sample(names[:300], 2)
        call(u, v, rng.randint(1, 3))
    call("m.f250", "m.leaf", 2)  # m.leaf calls nothing: a dangling seed
    graph = CodeGraph(g)
    # "f5" names two symbols (m.f5, other.f5): each gets the seed's whole weight
    seeds = {"m.f3": 2.0, "m.f250": 1.0, "f5": 1.5, "m.leaf": 0.5}
    got = graph.pagerank(seeds, alpha=alpha)
    personal = {"m.f3": 2.0, "m.f250": 1.0, "m.f5": 1.5, "other.f5": 1.5, "m.leaf": 0.5}
    want = nx.pagerank(weighted, alpha=alpha, personalization=personal, tol=1e-14, max_iter=1000)
    assert set(got) == set(names)
    assert max(abs(got[n] - want[n]) for n in names) < 1e-8
    assert got["other.f5"] > 0 and got["m.leaf"] > 0
    assert sum(1 for n in names if got[n] > 0) < len(names)  # a local walk, not everything


def test_importable_names_drop_the_src_layout_root():
    from app.codegraph.queries import importable_name

    assert importable_name("src.requests.sessions.merge_setting", "src/requests/sessions.py") == (
        "requests.sessions.merge_setting"
    )
    assert importable_name("src.app.main", "src/app/main.py") == "app.main"
    assert importable_name("srcs.x.y", "srcs/x.py") == "srcs.x.y"
    assert importable_name("store.users.save", "store/users.py") == "store.users.save"
