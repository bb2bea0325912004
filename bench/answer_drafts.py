"""Record what a real chat model drafts: the evidence it was shown and its raw reply.

Usage: python bench/answer_drafts.py --repo PATH --llm qwen-0.5b --out drafts.json Q [Q ...]

Each record holds the question, the numbered evidence blocks the answer node showed (path,
lines, symbol, text), the prompt and the model's reply before any post-processing, and the
answer the user got. The tests' fixtures under ``tests/fixtures/drafts/`` come from this script
(``drafts/system_prompt/`` holds those recorded with today's answer prompt)
(real outputs of SmolLM2-135M, Qwen2.5-Coder-0.5B and 1.5B), so the citation attacher is tested
on what the models really write, not on hand-made strings only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def record_drafts(repo: Path, llm: str, questions: list[str]) -> list[dict[str, Any]]:
    """Ask each question through the question graph and keep each answer call's raw reply."""
    import graphs.nodes.respond as respond
    from app.assistant import Assistant
    from app.services import Services
    from app.settings import Settings

    calls: list[dict[str, Any]] = []
    real_ask, real_blocks = respond.ask_text, respond._blocks

    def blocks(context: list[dict[str, Any]], lines: int = 20) -> str:
        calls.append({"context": [dict(c) for c in context]})
        return real_blocks(context, lines)

    def ask(deps: Any, prompt: Any, **kw: Any) -> str | None:
        reply = real_ask(deps, prompt, **kw)
        if calls and "reply" not in calls[-1]:
            shown = (
                prompt
                if isinstance(prompt, str)
                else [{"role": m.type, "content": m.content} for m in prompt]
            )  # the answer prompt is a message list: system rules, an example, the evidence
            calls[-1] |= {"prompt": shown, "reply": reply}
        return reply

    respond._blocks, respond.ask_text = blocks, ask  # type: ignore[assignment]
    services = Services(repo, Settings(llm=llm))
    services.index()
    assistant = Assistant(services)
    out = []
    for q in questions:
        calls.clear()
        t0 = time.perf_counter()
        res = assistant.ask(q)
        out.append({
            "model": llm, "question": q, "seconds": round(time.perf_counter() - t0, 1),
            "drafts": list(calls), "answer": res.answer, "status": res.status,
        })  # fmt: skip
        print(f"[{llm}] {q} ({out[-1]['seconds']} s)\n{res.answer}\n", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--llm", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("questions", nargs="+")
    args = ap.parse_args()
    records = record_drafts(args.repo.resolve(), args.llm, args.questions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
