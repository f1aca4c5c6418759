"""CPU of a conditional GET answered 304: httpx's own transport against feeds/transport.py.

    .venv/bin/python bench/bench_transport.py      # ~1 min

The farm (bench/common.py) serves 1,000 static feeds on 200 loopback addresses; each round
fetches all of them once through `feeds.fetch.Fetcher` (32 at a time, as the poller does)
with the ETag of the current version, so every answer is a 304. CPU seconds of this process
per round (the farm runs in its own process); the first round opens the connections.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, FarmProcess, FarmSpec, median, print_machine, table

sys.path.insert(0, str(ROOT))


async def rounds(fetcher: object, urls: list[tuple[int, str]], n: int) -> list[float]:
    from feeds.fetch import Fetcher

    assert isinstance(fetcher, Fetcher)
    slots = asyncio.Semaphore(32)

    async def one(i: int, url: str) -> None:
        async with slots:
            result = await fetcher.fetch(url, etag=f'"{i}-0"')
            assert result.not_modified

    cpus = []
    for _ in range(n):
        c0 = time.process_time()
        await asyncio.gather(*(one(i, u) for i, u in urls))
        cpus.append(time.process_time() - c0)
    return cpus


async def main() -> None:
    import httpx

    from feeds.fetch import Fetcher, FetchSettings

    print_machine()
    settings = FetchSettings(allow_private_addresses=True)
    spec = FarmSpec(static=1.0, changing=0.0, slow=0.0)
    rows = []
    with FarmProcess(spec) as farm:
        urls = [(i, farm.url(i)) for i in range(spec.feeds)]
        for name, make in [
            (
                "httpx default transport (httpcore)",
                lambda: httpx.AsyncHTTPTransport(trust_env=False),
            ),
            ("feeds/transport.py (aiohttp, kept alive)", lambda: None),
        ]:
            transport = make()
            fetcher = Fetcher(settings, transport=transport)
            try:
                cpus = await rounds(fetcher, urls, 5)
            finally:
                await fetcher.aclose()
                if transport is not None:
                    await transport.aclose()
            rows.append(
                [
                    name,
                    f"{cpus[0] / len(urls) * 1000:.2f}",
                    f"{median(cpus[1:]) / len(urls) * 1000:.2f}",
                ]
            )
            print("  " + " | ".join(rows[-1]), flush=True)
    print(table(["transport", "ms CPU per 304, first round", "ms CPU per 304, later rounds"], rows))


if __name__ == "__main__":
    asyncio.run(main())
