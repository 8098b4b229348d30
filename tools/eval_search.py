"""Knowledge-search relevance (`make eval`): tests/search/questions.yml against the seeded corpus.yml.

For each backend (SQLite always; PostgreSQL when it answers at DATABASE_TEST_URL) a fresh database gets the
sample company and the corpus; every question is asked as its asker. Figures: top-1 and top-3 hit rate (a hit:
an expected title among the first k), overall, per language and per batch (batch 2 was written after the search
was frozen: the unbiased figure), the same without the thesaurus (what synonyms add), and whether both backends
return the same top 3 for every question. Results go to results/search-eval.json and .md; a table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Sequence

from assistant import search
from assistant.config import ROOT
from assistant.search_corpus import load_corpus, load_questions, seed_corpus
from assistant.seed import seed
from assistant.store import Database
from assistant.store.scratch import create_database, drop_database

PG_URL = os.environ.get("DATABASE_TEST_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_TOP3 = 0.9


def answers(db: Database, questions: Sequence[Dict[str, Any]], synonyms: bool = True) -> List[List[str]]:
    """The top-3 titles for every question, as its asker."""
    return [[h.title for h in search.search(db, q["asker"], q["q"], limit=3, synonyms=synonyms)] for q in questions]


def rates(questions: Sequence[Dict[str, Any]], found: Sequence[List[str]]) -> Dict[str, Any]:
    """Top-1/top-3 hit rates overall, per language and per batch."""
    slices: Dict[str, List[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        for key in ("all", f"lang {q['lang']}", f"batch {q.get('batch', 1)}"):
            slices[key].append(i)

    def rate(indices: List[int], k: int) -> float:
        return sum(any(t in questions[i]["expected"] for t in found[i][:k]) for i in indices) / len(indices)

    return {key: {"n": len(ix), "top1": rate(ix, 1), "top3": rate(ix, 3)} for key, ix in sorted(slices.items())}


def _pg_database() -> str | None:
    try:
        return create_database(PG_URL, "deskmate_eval")
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        print(f"PostgreSQL not available at {PG_URL} ({exc.__class__.__name__}): SQLite only", file=sys.stderr)
        return None


def evaluate(url: str, questions: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    db = Database(url)
    try:
        seed(db, ROOT / "company")
        seed_corpus(db)
        found = answers(db, questions)
        plain = answers(db, questions, synonyms=False)
    finally:
        db.dispose()
    misses = [{"q": q["q"], "asker": q["asker"], "expected": q["expected"], "got": f}
              for q, f in zip(questions, found, strict=True) if not any(t in q["expected"] for t in f)]
    return {"rates": rates(questions, found), "without_thesaurus": rates(questions, plain), "top3": found,
            "misses": misses}


def table(report: Dict[str, Any]) -> List[str]:
    lines = ["| backend | slice | n | top-1 | top-3 | top-3 without thesaurus |", "|---|---|---|---|---|---|"]
    for backend, result in report["backends"].items():
        for key, figures in result["rates"].items():
            plain = result["without_thesaurus"][key]
            lines.append(f"| {backend} | {key} | {figures['n']} | {figures['top1']:.3f} | {figures['top3']:.3f} | "
                         f"{plain['top3']:.3f} |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    questions = load_questions()
    report: Dict[str, Any] = {"finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              "topics": len(load_corpus()), "questions": len(questions), "backends": {}}
    with tempfile.TemporaryDirectory(prefix="deskmate-eval-search-") as tmp:
        report["backends"]["sqlite"] = evaluate(f"sqlite:///{Path(tmp) / 'eval.db'}", questions)
    pg_url = None if args.sqlite_only else _pg_database()
    if pg_url:
        try:
            report["backends"]["postgresql"] = evaluate(pg_url, questions)
        finally:
            drop_database(pg_url)
        same = report["backends"]["sqlite"]["top3"] == report["backends"]["postgresql"]["top3"]
        report["backends_agree"] = same
    top3 = report["backends"]["sqlite"]["rates"]["all"]["top3"]
    lines = [
        "# Knowledge search relevance",
        "",
        f"{report['finished']}: {report['topics']} corpus topics, {report['questions']} questions "
        "(tests/search/); a hit is an expected title among the first k results for the question's asker.",
        "",
        *table(report),
        "",
        f"Top-3 over all questions: {top3:.3f} (target {TARGET_TOP3}). "
        + ("SQLite and PostgreSQL return the same top 3 for every question." if report.get("backends_agree")
           else "PostgreSQL not compared." if "backends_agree" not in report
           else "SQLite and PostgreSQL DIFFER on some question."),
        "",
        "## Misses at 3 (SQLite)",
        "",
        *(f"- {m['q']} ({m['asker']}): expected {m['expected']}, got {m['got']}"
          for m in report["backends"]["sqlite"]["misses"]),
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "search-eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (args.out / "search-eval.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[4:]))
    print(f"details in {args.out}/search-eval.md and search-eval.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
