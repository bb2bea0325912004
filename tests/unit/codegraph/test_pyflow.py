"""Call-graph extraction and solving on small multi-module programs written to tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.codegraph.pyflow import (
    SolveBudgetExceeded,
    analyze_tree,
    export_pycg,
    extract_facts,
    solve,
)
from app.codegraph.pyflow.solver import Engine
from app.codegraph.pyflow.state import MAX_VALUES

REPO = Path(__file__).resolve().parents[3]


def graph(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, src in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(src))
    return analyze_tree(tmp_path)


def test_direct_calls_and_module_caller(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        def helper():
            pass

        def run():
            helper()

        run()
        print("x")
    """})
    assert cg["main"] == {"main.run", "<builtin>.print"}
    assert cg["main.run"] == {"main.helper"}
    assert cg["main.helper"] == set()


def test_aliases_and_from_import_as(tmp_path: Path) -> None:
    cg = graph(tmp_path, {
        "util.py": "def work():\n    pass\n\ndef other():\n    pass\n",
        "main.py": """
            import util as u
            from util import other as o

            f = u.work
            f()
            o()
        """,
    })
    assert cg["main"] == {"util.work", "util.other"}


def test_relative_imports_in_package(tmp_path: Path) -> None:
    cg = graph(tmp_path, {
        "pkg/__init__.py": "from .core import start\n",
        "pkg/core.py": "from . import helpers\n\ndef start():\n    helpers.assist()\n",
        "pkg/helpers.py": "from ..top import base\n\ndef assist():\n    base()\n",
        "top.py": "def base():\n    pass\n",
        "main.py": "from pkg import start\nstart()\n",
    })
    assert cg["main"] == {"pkg.core.start"}
    assert cg["pkg.core.start"] == {"pkg.helpers.assist"}
    assert cg["pkg.helpers.assist"] == {"top.base"}


def test_self_method_inheritance_and_super(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        class Base:
            def __init__(self):
                self.setup()

            def setup(self):
                pass

            def greet(self):
                pass

        class Child(Base):
            def __init__(self):
                super().__init__()
                self.greet()

            def setup(self):
                pass

        c = Child()
        c.greet()
    """})
    assert cg["main"] == {"main.Child.__init__", "main.Base.greet"}
    assert cg["main.Child.__init__"] == {"main.Base.__init__", "main.Base.greet",
                                          "<builtin>.super"}
    # self in Base.__init__ may be a Child: both overrides are possible targets.
    assert cg["main.Base.__init__"] == {"main.Base.setup", "main.Child.setup"}


def test_instantiation_edges_only_with_init(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        class Plain:
            def go(self):
                pass

        class WithInit:
            def __init__(self, x):
                self.x = x

        class Sub(WithInit):
            pass

        Plain().go()
        Sub(1)
    """})
    assert cg["main"] == {"main.Plain.go", "main.WithInit.__init__"}


def test_function_passed_as_argument_and_kwargs(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        def cb():
            pass

        def other():
            pass

        def apply(fn, *, then=None):
            fn()
            then()

        apply(cb, then=other)
    """})
    assert cg["main.apply"] == {"main.cb", "main.other"}


def test_returned_function_and_lambda(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        def target():
            pass

        def factory():
            return target

        def make_lambda():
            return lambda: target()

        factory()()
        g = make_lambda()
        g()
        sq = lambda x: x * x
        sq(2)
    """})
    assert cg["main"] == {"main.factory", "main.target", "main.make_lambda",
                          "main.make_lambda.<lambda1>", "main.<lambda1>"}
    assert cg["main.make_lambda.<lambda1>"] == {"main.target"}


def test_dict_and_list_of_functions(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        def a():
            pass

        def b():
            pass

        def c():
            pass

        table = {"a": a, "b": b}
        table["a"]()
        table["a"] = c
        table["a"]()
        items = [a, b]
        items[1]()
    """})
    assert cg["main"] == {"main.a", "main.c", "main.b"}


def test_dict_strong_update_keeps_only_last_value(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        def old():
            pass

        def new():
            pass

        d = {"k": old}
        d["k"] = new
        d["k"]()
    """})
    assert cg["main"] == {"main.new"}


def test_decorator_is_a_call_from_enclosing_scope(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        def deco(f):
            def wrapper():
                return f()
            return wrapper

        @deco
        def job():
            pass

        def run():
            job()

        run()
    """})
    assert cg["main"] == {"main.deco", "main.run"}
    assert cg["main.run"] == {"main.deco.wrapper"}
    assert cg["main.deco.wrapper"] == {"main.job"}


def test_unresolvable_calls_give_no_internal_edge(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        import requests

        def handler():
            pass

        def run(obj, name):
            getattr(obj, name)()
            obj.handler()
            requests.get("u")

        run(object(), "x")
    """})
    internal = {c for c in cg["main.run"] if c.startswith("main.")}
    assert internal == set()
    assert "requests.get" in cg["main.run"]


def test_src_layout_import_resolves_by_suffix(tmp_path: Path) -> None:
    cg = graph(tmp_path, {
        "src/mypkg/__init__.py": "",
        "src/mypkg/core.py": "def compute():\n    pass\n",
        "scripts/cli.py": "from mypkg.core import compute\nimport mypkg.core\n"
                          "compute()\nmypkg.core.compute()\n",
    })
    assert cg["scripts.cli"] == {"src.mypkg.core.compute"}


def test_generator_and_iterator_protocol(tmp_path: Path) -> None:
    cg = graph(tmp_path, {"main.py": """
        def f():
            pass

        def gen():
            yield f

        class It:
            def __iter__(self):
                return self

            def __next__(self):
                return f

        for x in gen():
            x()
        for y in It():
            pass
    """})
    assert cg["main"] == {"main.gen", "main.f", "main.It.__iter__", "main.It.__next__"}


def test_facts_are_json_serialisable_and_solve_from_facts(tmp_path: Path) -> None:
    facts = {
        "a.py": extract_facts("a", "a.py", "def f():\n    pass\n"),
        "b.py": extract_facts("b", "b.py", "from a import f\nf()\n"),
    }
    roundtrip = json.loads(json.dumps(facts))
    assert solve(roundtrip)["b"] == {"a.f"}


def test_export_pycg_sorted_lists(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("def z():\n    pass\ndef a():\n    pass\nz()\na()\n")
    out = export_pycg(tmp_path)
    assert out["main"] == ["main.a", "main.z"]
    assert out["main.a"] == []


def test_root_folder_that_is_a_package(tmp_path: Path) -> None:
    root = tmp_path / "mylib"
    cg = graph(root, {
        "__init__.py": "from .core import go\n",
        "core.py": "def go():\n    pass\n",
        "cli.py": "import mylib\nimport mylib.core\nfrom mylib.core import go\n"
                  "mylib.core.go()\ngo()\nmylib.go()\n",
    })
    assert cg["cli"] == {"core.go"}


def capped_facts() -> dict[str, Any]:
    """Build facts whose value sets overflow the caps in ways that used to depend on order.

    Forty handlers spread over four modules each pass themselves to ``reg.sink``
    (which ones fit depended on the order of the facts mapping), and ``reg.merge``
    copies forty one-item dicts into one (which ones fit depended on set order).
    """
    dicts = " or ".join(f'{{"k": m{i % 4}.f{i // 4}}}' for i in range(40))
    files: dict[str, str] = {"reg.py": (
        "import m0, m1, m2, m3\n"
        "REG = {}\n"
        "def register(fn):\n    REG[fn.__name__] = fn\n    return fn\n"
        "def dispatch(name, *args):\n    return REG[name](*args)\n"
        "def sink(fn):\n    fn(0)\n"
        f"def merge():\n    d = {dicts}\n    m = {{**d}}\n    m['k'](1)\n")}
    for m in range(4):
        body = "from reg import register, sink\n"
        for j in range(10):
            body += f"@register\ndef f{j}(x):\n    sink(f{j})\n"
        files[f"m{m}.py"] = body
    return {rel: extract_facts(rel[:-3], rel, src) for rel, src in files.items()}


_SOLVE_SCRIPT = """
import json, sys
from app.codegraph.pyflow import solve
facts = json.load(open(sys.argv[1]))
if sys.argv[2] == "rev":
    facts = dict(reversed(list(facts.items())))
cg = solve(facts)
print(json.dumps({k: sorted(v) for k, v in sorted(cg.items())}))
"""


def solve_in_subprocess(facts_file: Path, seed: str, order: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    proc = subprocess.run([sys.executable, "-c", _SOLVE_SCRIPT, str(facts_file), order],
                          cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return proc.stdout


def test_solve_is_deterministic_when_caps_are_hit(tmp_path: Path) -> None:
    facts = capped_facts()
    cg = solve(facts)
    handlers = {f"m{m}.f{j}" for m in range(4) for j in range(10)}
    # Each cap overflows, so every call reaches only some handlers.
    for caller in ("reg.dispatch", "reg.sink", "reg.merge"):
        assert len(cg[caller] & handlers) == MAX_VALUES
    facts_file = tmp_path / "facts.json"
    facts_file.write_text(json.dumps(facts))
    runs = {solve_in_subprocess(facts_file, seed, order)
            for seed, order in (("1", "fwd"), ("2", "fwd"), ("3", "rev"), ("4", "rev"))}
    assert len(runs) == 1
    assert json.loads(runs.pop()) == {k: sorted(v) for k, v in cg.items()}


def test_solve_ignores_facts_order_in_process() -> None:
    facts = capped_facts()
    assert solve(dict(reversed(list(facts.items())))) == solve(facts)


def test_work_budget_is_exact_and_deterministic() -> None:
    facts = capped_facts()
    eng = Engine(dict(sorted(facts.items())))
    eng.run()
    assert eng.work > 100
    assert solve(facts, max_work=eng.work) == solve(facts)
    with pytest.raises(SolveBudgetExceeded):
        solve(facts, max_work=eng.work - 1)
    with pytest.raises(RuntimeError):
        solve(facts, max_work=10)
