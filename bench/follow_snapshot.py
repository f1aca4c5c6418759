"""Everything `FollowIndex.find` and `Matcher.match` say about every test story, as one file,
so that a speed change to /follow matching can be shown to change no result (issue 13,
BENCHMARKS.md "/follow at scale").

    .venv/bin/python bench/follow_snapshot.py OUT.jsonl     # write, and print a digest

Run it on both trees (copy this file into the other one) and compare the two files (`cmp`).

Stories: the 669 of tests/data/matcher/stories.jsonl, each also in perturbed copies that
take the fold's slower paths: harakat, tatweel, NFKD, the lam-alef ligature, upper case,
odd spaces (double, no-break, line break), and all of them at once. Follows: the three sets
of bench/bench_follows.py (realistic, any word, every chat its own: the last with 2,000
chats, 40,000 terms). Per story and set: each hit's evidence (label, term, quoted text,
field, offsets) and its chats, in order; and the matcher's labels and evidence.
"""

from __future__ import annotations

import hashlib
import json
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_follows import follows, stories, vocabulary  # noqa: E402
from filters.follow_index import FollowIndex  # noqa: E402
from filters.schema import WatchlistsConfig  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402

STORIES = ROOT / "tests" / "data" / "matcher" / "stories.jsonl"
_AR = range(0x0621, 0x064B)


def _every_third_arabic(text: str, mark: str) -> str:
    out = []
    k = 0
    for c in text:
        out.append(c)
        if ord(c) in _AR:
            k += 1
            if k % 3 == 0:
                out.append(mark)
    return "".join(out)


def _tatweel(text: str) -> str:
    words = text.split(" ")
    return " ".join(
        w[:2] + "\u0640" + w[2:] if len(w) >= 4 and ord(w[1]) in _AR else w for w in words
    )


def _odd_spaces(text: str) -> str:
    parts = text.split(" ")
    seps = ("  ", "\u00a0", "\n", " ")
    return "".join(p + (seps[i % 4] if i < len(parts) - 1 else "") for i, p in enumerate(parts))


PERTURB: dict[str, Callable[[str], str]] = {
    "same": lambda t: t,
    "harakat": lambda t: _every_third_arabic(t, "\u064e"),
    "tanwin": lambda t: t.replace("ا ", "اً ").replace("ة ", "ةٌ "),
    "tatweel": _tatweel,
    "nfkd": lambda t: unicodedata.normalize("NFKD", t),
    "lamalef": lambda t: t.replace("لا", "\ufefb"),
    "upper": str.upper,
    "spaces": _odd_spaces,
    "all": lambda t: _odd_spaces(
        _tatweel(_every_third_arabic(t.replace("لا", "\ufefb"), "\u064e")).upper()
    ),
}


def main(argv: list[str]) -> int:
    out_path = Path(argv[0])
    with (ROOT / "config.yaml").open(encoding="utf-8") as fh:
        matcher = Matcher(WatchlistsConfig.model_validate(yaml.safe_load(fh)["watchlists"]))
    rows = [json.loads(line) for line in STORIES.read_text(encoding="utf-8").splitlines() if line]
    texts = stories()
    sets = {
        "realistic": FollowIndex(follows(10_000, 20, vocabulary(texts[0::2], 0.01), False)),
        "any": FollowIndex(follows(10_000, 20, vocabulary(texts[0::2], 1.0), False)),
        "distinct": FollowIndex(follows(2_000, 20, vocabulary(texts[0::2], 1.0), True)),
    }
    digest = hashlib.sha256()
    with out_path.open("w", encoding="utf-8") as out:
        for row in rows:
            for kind, perturb in PERTURB.items():
                title = perturb(str(row.get("title") or ""))
                summary = perturb(str(row.get("summary") or ""))
                lang = row["lang"] if isinstance(row.get("lang"), str) else None
                match = matcher.match(title, summary, lang)
                line: dict[str, object] = {
                    "id": row["id"],
                    "kind": kind,
                    "labels": list(match.labels),
                    "evidence": [list(e) for e in match.evidence],
                }
                for name, index in sets.items():
                    line[name] = [
                        [*evidence, list(subscriptions)]
                        for evidence, subscriptions in index.find(title, summary)
                    ]
                text = json.dumps(line, ensure_ascii=False)
                digest.update(text.encode())
                out.write(text + "\n")
    print(f"{len(rows)} stories x {len(PERTURB)} forms: sha256 {digest.hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
