"""Record or check what the matcher says about every dev story, so a speed change can be
shown to change no result.

    .venv/bin/python bench/matcher_snapshot.py --copy    # (re)copy the stories into tests/data
    .venv/bin/python bench/matcher_snapshot.py --write   # record the current results
    .venv/bin/python bench/matcher_snapshot.py           # compare; exit 1 on any difference

Stories: `tests/data/matcher/stories.jsonl`, a copy (made by `--copy`) of both dev files
(../shared/data/dev/stories.jsonl, stories-2.jsonl) and of the stories of the real feed files
(../shared/data/feeds/*.xml) as the bot sees them (feeds.parse.parse_feed). Results:
`tests/data/matcher/expected.jsonl`, one line per story: the labels, every piece of evidence
(label, term, quoted text, field, offsets) of `Matcher.match`, and the lines of
`Matcher.explain`. tests/test_matcher_results.py checks the same file, so after a deliberate
change of rules or config run `--write` and review the diff.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filters.schema import WatchlistsConfig  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402

DATA = ROOT / "tests" / "data" / "matcher"
STORIES = DATA / "stories.jsonl"
EXPECTED = DATA / "expected.jsonl"
SHARED = next(
    (
        p
        for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "data",
)


def copy_stories() -> int:
    from feeds.parse import parse_feed

    rows: list[dict[str, object]] = []
    for name in ("stories.jsonl", "stories-2.jsonl"):
        with (SHARED / "dev" / name).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    rows.append(
                        {
                            "id": r["id"],
                            "lang": r.get("lang"),
                            "title": r.get("title"),
                            "summary": r.get("summary"),
                            "labels": r["labels"],
                            "uncertain": bool(r.get("uncertain")),
                        }
                    )
    now = datetime(2026, 2, 16, tzinfo=UTC)
    for path in sorted((SHARED / "feeds").glob("*.xml")):
        parsed = parse_feed(
            path.read_bytes(),
            {},
            feed_id=path.name,
            url="https://example.org/",
            language="ar",
            now=now,
        )
        for i, s in enumerate(parsed.stories):
            rows.append(
                {
                    "id": f"feed:{path.stem}:{i}",
                    "lang": s.language,
                    "title": s.title,
                    "summary": s.summary,
                }
            )
    with STORIES.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"copied {len(rows)} stories to {STORIES.relative_to(ROOT)}")
    return 0


def load_stories(path: Path = STORIES) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def build_matcher(config: Path = ROOT / "config.yaml") -> Matcher:
    with config.open(encoding="utf-8") as fh:
        return Matcher(WatchlistsConfig.model_validate(yaml.safe_load(fh)["watchlists"]))


def results(matcher: Matcher, stories: list[dict[str, object]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for s in stories:
        title, summary = str(s.get("title") or ""), str(s.get("summary") or "")
        lang = s.get("lang") if isinstance(s.get("lang"), str) else None
        m = matcher.match(title, summary, lang)  # type: ignore[arg-type]
        out.append(
            {
                "id": s["id"],
                "labels": list(m.labels),
                "evidence": [e.as_dict() for e in m.evidence],
                "explain": matcher.explain(title, summary, lang),  # type: ignore[arg-type]
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--copy", action="store_true", help="copy the stories from ../shared")
    ap.add_argument("--write", action="store_true", help="record the current results")
    args = ap.parse_args(argv)
    if args.copy:
        return copy_stories()
    got = results(build_matcher(), load_stories())
    if args.write:
        with EXPECTED.open("w", encoding="utf-8") as fh:
            for r in got:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"recorded {len(got)} results in {EXPECTED.relative_to(ROOT)}")
        return 0
    want = load_stories(EXPECTED)
    diffs = [(w, g) for w, g in zip(want, got, strict=True) if w != g]
    for w, g in diffs[:20]:
        print(
            f"{w['id']}:\n  expected {json.dumps(w, ensure_ascii=False)}\n  got      {json.dumps(g, ensure_ascii=False)}"
        )
    print(f"{len(got)} stories, {len(diffs)} differ")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
