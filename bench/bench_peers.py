"""Mirsad next to two peers on the same 1,000-feed loopback farm: CPU per poll, memory.

    .venv/bin/python bench/bench_peers.py                 # ~10 min on 2 cores
    .venv/bin/python bench/bench_peers.py --rounds 1 --skip-once

Peers (issue 19), each in its own process, installed into a throw-away virtualenv under the
temporary folder, never into the project's requirements:
- reader (lemon24; needs Python >= 3.12: the venv is made with the newest python3.12 found,
  `--peer-python` to choose), `update_feeds(scheduled=False, workers=16)` per cycle;
- the plain loop: `feedparser.parse(url, etag=..., modified=...)` in 16 threads, keeping
  each feed's validators in a dict (same venv, feedparser 6.0.14).
Mirsad runs in this project's Python: the real composition (`runtime.app.build`: SQLite in a
temp dir, Fetcher, Poller, Matcher, the terminal outbox, INFO logging to a file), one
`poller.poll_all()` + `outbox.deliver_due()` per cycle; and, unless `--skip-once`, each
cycle as one `bot.py once` child process, minus the CPU of a one-feed `once` (start-up).

The farm (bench/common.py, its own process) serves 1,000 feeds on 200 loopback addresses:
85% static, 15% changing (50 items of real Arabic text). Scenarios, per runner with fresh
state: cold (first poll: 1,000 x 200 with 50 items), then `--rounds` times: changed (the
changing feeds gained 5 items: 150 x 200, 850 x 304) and warm (all 1,000 answer 304).
CPU = user + system seconds of the runner process (all threads) over the cycle; medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    PYTHON,
    ROOT,
    FarmProcess,
    FarmSpec,
    median,
    print_machine,
    table,
    write_config,
)

BENCH = Path(__file__).resolve().parent
PEER_PACKAGES = ["reader==3.27", "feedparser==6.0.14"]

# Each runner reads "cycle" lines on stdin and answers one JSON line per cycle. Each reads
# its peak from /proc itself: importing bench/common.py (statistics, the farm's code) would
# count ~1 MB of the bench's own against Mirsad alone.
MIRSAD_RUNNER = r"""
import asyncio, json, os, sys, time
from contextlib import AsyncExitStack
from pathlib import Path
sys.path.insert(0, sys.argv[2])
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
from config import load_settings
from runtime.app import AppOptions, build
from runtime.logs import setup_logging

async def main() -> None:
    settings = load_settings(Path(sys.argv[3]), env={})
    log = open(Path(sys.argv[3]).parent / "bot.log", "w")
    setup_logging(settings.config.logging, [], stream=log)
    devnull = open(os.devnull, "w")
    async with AsyncExitStack() as stack:
        parts = await build(settings, stack, AppOptions(stream=devnull))
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "cycle":
            c0 = time.process_time()
            outcomes = await parts.poller.poll_all()
            await parts.outbox.deliver_due()
            cpu = time.process_time() - c0
            status = {}
            for o in outcomes:
                status[o.status] = status.get(o.status, 0) + 1
            print(json.dumps({"cpu": cpu, "status": status, "peak": peak_mb()}), flush=True)

asyncio.run(main())
"""

READER_RUNNER = r"""
import json, sys, time
from reader import make_reader
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
urls = json.loads(open(sys.argv[2]).read())
reader = make_reader(sys.argv[3])
for url in urls:
    reader.add_feed(url)
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() != "cycle":
        break
    c0 = time.process_time()
    reader.update_feeds(scheduled=False, workers=16)
    cpu = time.process_time() - c0
    counts = reader.get_entry_counts()
    print(json.dumps({"cpu": cpu, "status": {"entries": counts.total}, "peak": peak_mb()}), flush=True)
"""

LOOP_RUNNER = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import feedparser
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
urls = json.loads(open(sys.argv[2]).read())
validators = {}

def poll(url):
    etag, modified = validators.get(url, (None, None))
    d = feedparser.parse(url, etag=etag, modified=modified)
    validators[url] = (d.get("etag"), d.get("modified"))
    return d.get("status")

print("ready", flush=True)
with ThreadPoolExecutor(16) as pool:
    for line in sys.stdin:
        if line.strip() != "cycle":
            break
        c0 = time.process_time()
        status = {}
        for s in pool.map(poll, urls):
            status[str(s)] = status.get(str(s), 0) + 1
        cpu = time.process_time() - c0
        print(json.dumps({"cpu": cpu, "status": status, "peak": peak_mb()}), flush=True)
"""


def clean_env() -> dict[str, str]:
    """No proxy for loopback, no tokens."""
    drop = ("proxy", "_bot_token")
    return {k: v for k, v in os.environ.items() if not k.lower().endswith(drop)}


class Runner:
    def __init__(self, name: str, argv: list[str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=clean_env()
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"{name} did not start: {line!r}")

    def cycle(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("cycle\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(60)


def peer_python(choice: str | None) -> str:
    if choice:
        return choice
    pyenv = Path.home() / ".pyenv" / "versions"
    candidates = [str(v / "bin" / "python") for v in sorted(pyenv.glob("3.1[23].*"))]
    candidates += [c for c in (shutil.which("python3.12"), shutil.which("python3.13")) if c]
    for candidate in candidates:
        works = subprocess.run([candidate, "--version"], capture_output=True, check=False)
        if works.returncode == 0:
            return candidate
    raise SystemExit("reader needs Python >= 3.12: pass --peer-python")


def make_peer_venv(where: Path, python: str) -> Path:
    if (where / "bin" / "python").exists():  # --peer-venv given and already made
        return where / "bin" / "python"
    subprocess.run([python, "-m", "venv", str(where)], check=True)
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "-q", *PEER_PACKAGES]
    subprocess.run(pip, check=True, stdout=subprocess.DEVNULL)
    return where / "bin" / "python"


def scenarios(runner: Runner, farm: FarmProcess, rounds: int) -> dict[str, list[dict[str, Any]]]:
    """cold once, then `rounds` x (changed, warm); the farm's clock drives the changes."""
    out: dict[str, list[dict[str, Any]]] = {"cold": [], "changed": [], "warm": []}
    farm.set_clock(0)
    out["cold"].append(runner.cycle())
    for n in range(1, rounds + 1):
        farm.set_clock(n * 5 * farm.spec.period)  # each changing feed: 5 new items
        out["changed"].append(runner.cycle())
        out["warm"].append(runner.cycle())
    return out


def once_cycles(config: Path, one_feed: Path, farm: FarmProcess, rounds: int) -> dict[str, Any]:
    """Each cycle one `bot.py once` child: its CPU from wait4, minus a one-feed `once`."""

    def once(path: Path) -> tuple[float, float]:
        proc = subprocess.Popen(
            [PYTHON, str(ROOT / "bot.py"), "once", "--config", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=clean_env(),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"bot.py once exited {proc.returncode}")
        return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024

    startup = median([once(one_feed)[0] for _ in range(3)])
    out: dict[str, Any] = {"startup": startup, "cold": [], "changed": [], "warm": [], "peak": 0.0}
    farm.set_clock(0)
    cpu, peak = once(config)
    out["cold"].append({"cpu": cpu - startup, "peak": peak})
    for n in range(1, rounds + 1):
        farm.set_clock(n * 5 * farm.spec.period)
        for kind in ("changed", "warm"):
            cpu, peak = once(config)
            out[kind].append({"cpu": cpu - startup, "peak": peak})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="changed+warm rounds (medians)")
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--peer-python", help="a Python >= 3.12 for the peers' venv")
    parser.add_argument("--peer-venv", type=Path, help="keep the peers' venv here (reused)")
    parser.add_argument("--skip-once", action="store_true", help="no `bot.py once` cycles")
    parser.add_argument("--only", help="comma-separated runners: mirsad,reader,loop,once")
    args = parser.parse_args()
    only = set((args.only or "mirsad,reader,loop,once").split(","))
    if args.skip_once:
        only.discard("once")
    print_machine()
    spec = FarmSpec(feeds=args.feeds, static=0.85, changing=0.15, slow=0.0, sim=True)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory() as d, FarmProcess(spec) as farm:
        tmp = Path(d)
        urls = [farm.url(i) for i in range(spec.feeds)]
        (tmp / "urls.json").write_text(json.dumps(urls))
        feeds = [(f"f{i:04d}", url) for i, url in enumerate(urls)]
        if only & {"reader", "loop"}:
            print("making the peers' venv ...", flush=True)
            peer = make_peer_venv(args.peer_venv or tmp / "peers", peer_python(args.peer_python))
        runners: list[tuple[str, list[str]]] = []
        if "mirsad" in only:
            (tmp / "m").mkdir()
            config = write_config(tmp / "m", feeds, health_port=None)
            runners.append(
                ("Mirsad", [PYTHON, "-c", MIRSAD_RUNNER, str(BENCH), str(ROOT), str(config)])
            )
        if "reader" in only:
            argv = [str(peer), "-c", READER_RUNNER, str(BENCH), str(tmp / "urls.json")]
            runners.append(("reader 3.27", [*argv, str(tmp / "reader.sqlite")]))
        if "loop" in only:
            argv = [str(peer), "-c", LOOP_RUNNER, str(BENCH), str(tmp / "urls.json")]
            runners.append(("feedparser loop", argv))
        for name, argv in runners:
            print(f"{name} ...", flush=True)
            runner = Runner(name, argv)
            try:
                results[name] = scenarios(runner, farm, args.rounds)
            finally:
                runner.close()
            for kind, cycles in results[name].items():
                print(f"  {kind}: {[round(c['cpu'], 2) for c in cycles]} {cycles[-1]['status']}")
        once_result: dict[str, Any] | None = None
        if "once" in only:
            print("Mirsad through bot.py once ...", flush=True)
            (tmp / "o").mkdir()
            (tmp / "o1").mkdir()
            config = write_config(tmp / "o", feeds, health_port=None)
            one = write_config(tmp / "o1", feeds[:1], health_port=None)
            once_result = once_cycles(config, one, farm, args.rounds)
            print(f"  start-up (one-feed once): {once_result['startup']:.2f} s")
    report(results, once_result, spec.feeds)


def report(
    results: dict[str, dict[str, list[dict[str, Any]]]],
    once: dict[str, Any] | None,
    feeds: int,
) -> None:
    kinds = [("warm", "warm: all 304"), ("changed", "15% changed"), ("cold", "cold")]
    cpu = {
        name: {k: median([c["cpu"] for c in r[k]]) for k, _ in kinds} for name, r in results.items()
    }
    peaks = {name: max(c["peak"] for cs in r.values() for c in cs) for name, r in results.items()}
    if once is not None:
        name = "Mirsad, `bot.py once` − start-up"
        cpu[name] = {k: median([c["cpu"] for c in once[k]]) for k, _ in kinds}
        peaks[name] = max(c["peak"] for k, _ in kinds for c in once[k])
    names = list(cpu)
    rows = []
    for k, label in kinds:
        rows.append(
            [label, *(f"{cpu[n][k]:.2f} ({cpu[n][k] / feeds * 1000:.2f} ms)" for n in names)]
        )
    rows.append(["peak memory MB", *(f"{peaks[n]:.0f}" for n in names)])
    print(f"\nCPU seconds per cycle of {feeds} polls (ms per poll), medians:\n")
    print(table(["scenario", *names], rows))
    peers = [n for n in names if not n.startswith("Mirsad")]
    if not peers:
        return
    ratio_rows = []
    for n in [n for n in names if n.startswith("Mirsad")]:
        for k, label in kinds:
            best = min(cpu[p][k] for p in peers)
            ratio_rows.append([n, label, f"{cpu[n][k] / best:.2f}" if best else "n/a"])
    print("\nMirsad's CPU / the best peer's (target: <= 1 warm, <= 0.5 changed and cold):\n")
    print(table(["Mirsad as", "scenario", "ratio"], ratio_rows))
    if once is not None:
        print(f"\n(one-feed `bot.py once` start-up subtracted: {once['startup']:.2f} CPU s)")


if __name__ == "__main__":
    main()
