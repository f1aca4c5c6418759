"""The shipped watchlists give every dev story exactly the recorded labels, evidence and
explanation (tests/data/matcher/expected.jsonl, written by bench/matcher_snapshot.py --write).

A guard for speed work on filters/: a faster matcher must say the same thing about every
story. After a deliberate change of rules or config.yaml, rerun
`bench/matcher_snapshot.py --write` and review the diff of expected.jsonl.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from filters.schema import WatchlistsConfig
from filters.watchlist import Matcher

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "matcher"


def _lines(name: str) -> list[dict[str, object]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    with (ROOT / "config.yaml").open(encoding="utf-8") as fh:
        return Matcher(WatchlistsConfig.model_validate(yaml.safe_load(fh)["watchlists"]))


def test_every_story_gets_the_recorded_labels_evidence_and_explanation(matcher: Matcher) -> None:
    stories = _lines("stories.jsonl")
    expected = {row["id"]: row for row in _lines("expected.jsonl")}
    assert len(stories) == len(expected) > 600
    differ: list[str] = []
    for story in stories:
        title, summary = str(story.get("title") or ""), str(story.get("summary") or "")
        lang = story["lang"] if isinstance(story.get("lang"), str) else None
        match = matcher.match(title, summary, lang)  # type: ignore[arg-type]
        got = {
            "id": story["id"],
            "labels": list(match.labels),
            "evidence": [e.as_dict() for e in match.evidence],
            "explain": matcher.explain(title, summary, lang),  # type: ignore[arg-type]
        }
        if got != expected[str(story["id"])]:
            differ.append(str(story["id"]))
    assert not differ, f"{len(differ)} stories differ from expected.jsonl: {differ[:10]}"
