"""The ranking metrics of coderag eval and the retrieval benchmark."""

import math

from app.eval.metrics import (
    METRICS,
    aggregate,
    covers,
    file_mrr_at_k,
    file_recall_at_k,
    ndcg_at_k,
)


def test_metrics_on_hand_computed_cases() -> None:
    span = {"path": "a.py", "start_line": 10, "end_line": 20}
    other = {"path": "b.py", "start_line": 1, "end_line": 5}
    assert covers(("a.py", 20, 30), span) and not covers(("a.py", 21, 30), span)
    assert covers(("b.py", 99, 100), {"path": "b.py"}) and not covers(("a.py", 1, 1), other)
    # One target at rank 1 -> 1.0; at rank 2 -> 1/log2(3).
    assert ndcg_at_k([("a.py", 12, 12)], [span]) == 1.0
    assert math.isclose(ndcg_at_k([("x", 1, 1), ("a.py", 1, 10)], [span]), 1 / math.log2(3))
    # One hit covering two targets credits both at rank 1: DCG 2 > ideal, capped at 1.
    wide = {"path": "a.py", "start_line": 15, "end_line": 16}
    assert ndcg_at_k([("a.py", 1, 100)], [span, wide]) == 1.0
    # Two targets, only the second found at rank 2: (1/log2 3) / (1 + 1/log2 3).
    got = ndcg_at_k([("x", 1, 1), ("b.py", 2, 2)], [span, other])
    assert math.isclose(got, (1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    # A target beyond rank 10 does not count; a repeated covering hit counts once.
    assert ndcg_at_k([("x", 1, 1)] * 10 + [("a.py", 10, 10)], [span]) == 0.0
    assert ndcg_at_k([("a.py", 10, 10), ("a.py", 11, 11)], [span]) == 1.0
    # Ideal DCG is capped at 10 gains: 12 targets all found in ranks 1..10 -> 1.0.
    many = [{"path": f"f{i}.py"} for i in range(12)]
    assert math.isclose(ndcg_at_k([(f"f{i}.py", 1, 1) for i in range(10)], many), 1.0)
    # File-level recall and MRR.
    hits = [("x", 1, 1), ("a.py", 1, 1), ("b.py", 1, 1)]
    assert file_recall_at_k(hits, [span, other], 1) == 0.0
    assert file_recall_at_k(hits, [span, other], 2) == 0.5
    assert file_recall_at_k(hits, [span, other], 5) == 1.0
    assert file_mrr_at_k(hits, [span, other]) == 0.5
    assert file_mrr_at_k([("x", 1, 1)], [span]) == 0.0
    # Averaging: per corpus first, then over corpora.
    rows = [
        {"corpus": "c1", **dict.fromkeys(METRICS, 1.0)},
        {"corpus": "c1", **dict.fromkeys(METRICS, 1.0)},
        {"corpus": "c2", **dict.fromkeys(METRICS, 0.0)},
    ]
    assert aggregate(rows)["mean"]["ndcg@10"] == 0.5
