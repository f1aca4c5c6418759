"""Stories in: a successful poll stored in one transaction, and the stories read back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, insert, literal_column, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models import Evidence, Match, Story

from . import records as rec
from . import tables as t
from .engine import Repository, insert_new
from .feeds import feed_polled
from .follows import GENERATION_KEY, followed_keys, muted_labels, read_generation

# Alerts sent longer ago than this are not edited when their feed corrects the story.
CORRECTABLE = timedelta(hours=48)

# The statements every changed feed runs, built once: building a Core statement and its
# cache key cost ~150 us of CPU per execution, about a third of a small query (issue 19).
# `ids` and `titles` are expanding: one statement for any length.
_KNOWN_TEXTS = select(t.stories.c.id, t.stories.c.title, t.stories.c.summary).where(
    t.stories.c.id.in_(bindparam("ids", expanding=True))
)
_RECENT_TITLES = select(t.stories.c.title).where(
    t.stories.c.feed_id == bindparam("feed_id"),
    t.stories.c.title.in_(bindparam("titles", expanding=True)),
    t.stories.c.seen_at >= bindparam("since", type_=t.stories.c.seen_at.type),
)
# known texts, recent titles and the follow generation in ONE statement: a changed feed's
# three look-ups before matching were three statements on three pooled connections (issue 19).
# `kind` tells the rows apart: 0 a known story, 1 a title seen lately, 2 the generation (its
# value in the title column).
_POLL_LOOKUPS = union_all(
    select(
        literal_column("0").label("kind"), t.stories.c.id, t.stories.c.title, t.stories.c.summary
    ).where(t.stories.c.id.in_(bindparam("ids", expanding=True))),
    select(literal_column("1"), t.stories.c.id, t.stories.c.title, t.stories.c.summary).where(
        t.stories.c.feed_id == bindparam("feed_id"),
        t.stories.c.title.in_(bindparam("titles", expanding=True)),
        t.stories.c.seen_at >= bindparam("since", type_=t.stories.c.seen_at.type),
    ),
    select(literal_column("2"), t.meta.c.key, t.meta.c.value, t.meta.c.value).where(
        t.meta.c.key == GENERATION_KEY
    ),
)
_ACTIVE_SUBSCRIPTIONS = (
    select(*rec.SUBSCRIPTION_COLUMNS)
    .select_from(t.subscriptions.outerjoin(t.chat_settings, rec.SETTINGS_JOIN))
    .where(t.subscriptions.c.active)
)


@cache
def _insert_new_stories(dialect: str) -> Any:
    """The new stories of a poll, built once and compiled once (store/engine.py: insert_new)."""
    return insert_new(dialect, t.stories, [t.stories.c.id]).returning(t.stories.c.id)


_MARK_SEEN = (
    update(t.stories)
    .where(t.stories.c.id.in_(bindparam("ids", expanding=True)))
    .values(seen_at=bindparam("now", type_=t.stories.c.seen_at.type))
)


class StoryRepository(Repository):
    """Stories, their matches and the outbox rows a poll queues."""

    async def known_story_ids(self, ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        async with self._db.read() as conn:
            for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                rows = await conn.execute(select(t.stories.c.id).where(t.stories.c.id.in_(chunk)))
                known.update(r.id for r in rows)
        return known

    async def recent_titles(self, feed_id: str, titles: Sequence[str], since: datetime) -> set[str]:
        """Which of `titles` a story of this feed, seen since `since`, already has."""
        found: set[str] = set()
        wanted = list(dict.fromkeys(titles))
        async with self._db.read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = await conn.execute(
                    _RECENT_TITLES, {"feed_id": feed_id, "titles": chunk, "since": since}
                )
                found.update(r.title for r in rows)
        return found

    async def ingest(
        self,
        feed_id: str,
        stories: Sequence[Story],
        matched: dict[str, Match],
        feed_update: rec.FeedUpdate,
        now: datetime,
        *,
        alert: bool,
        groups: Mapping[str, str] | None = None,
        corrections: Mapping[str, Match] | None = None,
        listed: Sequence[str] = (),
        follows: Mapping[str, Mapping[int, Sequence[Evidence]]] | None = None,
    ) -> rec.IngestResult:
        """Store a successful poll in ONE transaction.

        New stories, their matches, one outbox row per (active subscription, matching story)
        and the feed's new state commit together, so a crash leaves either all or none.
        `alert=False` (a feed's first poll) records stories as seen and queues nothing.

        Issue 14: `groups` maps a new story to the story whose alert already carries its event:
        it is stored with that event and not sent again; each subscription that was sent that
        alert gets an edit of it instead (it now names one more source), and a subscription
        that never got it gets this story as a new alert. `corrections` maps a known story
        whose feed changed its title or summary to its new match: the text is updated and
        each sent alert of it is edited. An edit is an outbox row of its own (revision 1, 2...),
        at most one pending per alert: it renders the latest state when it is sent.

        `listed`: ids of stored stories the feed still lists that were not parsed again
        (feeds/incremental.py); they are marked seen like the listed `stories`.

        Issue 13: `follows` maps a new story to the subscriptions whose own /follow words it
        holds (with the words). A story goes to a subscription, as ONE alert with every
        reason, when it matches a label the subscription receives and has not muted, or one
        of its words; the words ride on the outbox row (shown as #follow). A story that
        matches only muted labels is not queued for that subscription.
        """
        groups = groups or {}
        follows = follows or {}
        corrections = corrections or {}
        async with self._db.write() as conn:
            new_ids = await self._insert_new_stories(conn, stories, now, groups)
            # still in its feed, parsed again or not: keep it from being pruned (and so from
            # alerting again later); one statement for both
            still = sorted({s.id for s in stories if s.id not in new_ids}.union(listed))
            for start in range(0, len(still), 500):
                await conn.execute(_MARK_SEEN, {"ids": still[start : start + 500], "now": now})
            new_matches = {sid: m for sid, m in matched.items() if sid in new_ids and m}
            if new_matches:
                await conn.execute(
                    insert(t.matches),
                    [
                        {
                            "story_id": sid,
                            "labels": list(m.labels),
                            "evidence": rec.evidence_to_json(m),
                            "matched_at": now,
                        }
                        for sid, m in new_matches.items()
                    ],
                )
            queued = edits = 0
            grouped = {sid: groups[sid] for sid in new_matches if sid in groups}
            new_follows = {sid: f for sid, f in follows.items() if sid in new_ids and f}
            if alert and (new_matches or new_follows):
                queued, edits = await self._queue(
                    conn,
                    [s for s in stories if s.id in new_matches or s.id in new_follows],
                    new_matches,
                    grouped,
                    now,
                    new_follows,
                )
            if alert and corrections:
                edits += await self._correct(
                    conn,
                    [s for s in stories if s.id in corrections and s.id not in new_ids],
                    corrections,
                    now,
                )
            await conn.execute(
                feed_polled(
                    listed=not feed_update.not_modified,
                    new=bool(new_ids),
                    # with the stories it describes, so a new process reads both or neither
                    memory=feed_update.item_memory is not None,
                ),
                {
                    "b_feed_id": feed_id,
                    "b_etag": feed_update.etag,
                    "b_last_modified": feed_update.last_modified,
                    "b_next_poll_at": feed_update.next_poll_at,
                    "b_now": now,
                    **(
                        {}
                        if feed_update.item_memory is None
                        else {"b_item_memory": feed_update.item_memory}
                    ),
                },
            )
        return rec.IngestResult(
            new_stories=len(new_ids),
            matched=len(new_matches),
            queued=queued,
            grouped=len(grouped),
            edits=edits,
        )

    async def _insert_new_stories(
        self,
        conn: AsyncConnection,
        stories: Sequence[Story],
        now: datetime,
        groups: Mapping[str, str],
    ) -> set[str]:
        """Insert the stories not stored yet; returns their ids (the caller marks the others
        seen)."""
        existing: set[str] = set()
        if self._db.dialect == "postgresql":
            # Locked first, sorted, so that two instances ingesting overlapping stories lock
            # the rows in the same order and cannot deadlock. SQLite has one writer at a time:
            # the insert below tells which are new without this look (one statement less per
            # changed feed, issue 19).
            ids = sorted({s.id for s in stories})
            for start in range(0, len(ids), 500):
                query = (
                    select(t.stories.c.id)
                    .where(t.stories.c.id.in_(ids[start : start + 500]))
                    .order_by(t.stories.c.id)
                    .with_for_update()
                )
                existing.update(r.id for r in await conn.execute(query))
        fresh: dict[str, Story] = {}
        for s in sorted(stories, key=lambda s: s.id):
            if s.id not in existing and s.id not in fresh:
                fresh[s.id] = s
        if not fresh:
            return set()
        rows = [
            {
                "id": s.id,
                "feed_id": s.feed_id,
                "title": s.title,
                "summary": s.summary,
                "link": s.link,
                "published": s.published,
                "image": s.image,
                "language": s.language,
                "seen_at": now,
                "event_id": groups.get(s.id),
            }
            for s in fresh.values()
        ]
        # Already stored (on PostgreSQL, another instance may have inserted some since the
        # look above: two feeds listing one story): not returned, so treated as known; the
        # instance that inserted them alerts on them.
        inserted = await conn.execute(_insert_new_stories(self._db.dialect), rows)
        return {r.id for r in inserted}

    async def _queue(
        self,
        conn: AsyncConnection,
        stories: Sequence[Story],
        matched: dict[str, Match],
        grouped: Mapping[str, str],
        now: datetime,
        follows: Mapping[str, Mapping[int, Sequence[Evidence]]],
    ) -> tuple[int, int]:
        """Queue new alerts (and, for grouped stories, edits): (alerts queued, edits queued)."""
        subs = [rec.subscription_from_row(r) for r in await conn.execute(_ACTIVE_SUBSCRIPTIONS)]
        heads = await self._alerts_of(conn, set(grouped.values()))
        muted = await muted_labels(conn, now)
        # the index may be one change behind the follows table; the table decides
        still = await followed_keys(conn, [sub for f in follows.values() for sub in f])
        rows = []
        edits = 0
        for story in stories:
            labels = set(matched[story.id].labels) if story.id in matched else set()
            words = follows.get(story.id, {})
            head = grouped.get(story.id)
            if head is not None:
                # every chat that was sent the event's alert sees it name one more source
                for (sub_id, _), (status, _) in heads.get(head, {}).items():
                    if status == "sent":
                        edits += await self._queue_edit(conn, sub_id, head, now)
            for sub in subs:
                mine = [e for e in words.get(sub.id, ()) if (sub.id, e.term) in still]
                if not mine and not labels.intersection(sub.labels).difference(
                    muted.get(sub.id, ())
                ):
                    continue
                if head is not None and (sub.id, 0) in heads.get(head, {}):
                    continue  # it has (or will have) the event's alert: no second message
                rows.append(
                    {
                        "subscription_id": sub.id,
                        "story_id": story.id,
                        "published": story.published,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "follows": [e.as_dict() for e in mine] or None,
                    }
                )
        if rows:
            await conn.execute(insert(t.outbox), rows)
        return len(rows), edits

    async def _correct(
        self,
        conn: AsyncConnection,
        stories: Sequence[Story],
        corrections: Mapping[str, Match],
        now: datetime,
    ) -> int:
        """Store the corrected text of known stories and queue an edit of each sent alert."""
        edits = 0
        alerts = await self._alerts_of(conn, {s.id for s in stories})
        for story in stories:
            await conn.execute(
                update(t.stories)
                .where(t.stories.c.id == story.id)
                .values(title=story.title, summary=story.summary, revised_at=now)
            )
            match = corrections[story.id]
            if match:
                await conn.execute(
                    update(t.matches)
                    .where(t.matches.c.story_id == story.id)
                    .values(labels=list(match.labels), evidence=rec.evidence_to_json(match))
                )
            for (sub_id, _), (status, sent_at) in alerts.get(story.id, {}).items():
                # an old alert is left as it was: a change in how feeds are cleaned after an
                # upgrade must not edit a month of messages
                if status == "sent" and sent_at is not None and sent_at >= now - CORRECTABLE:
                    edits += await self._queue_edit(conn, sub_id, story.id, now)
        return edits

    async def _alerts_of(
        self, conn: AsyncConnection, story_ids: set[str]
    ) -> dict[str, dict[tuple[int, int], tuple[str, datetime | None]]]:
        """story id -> {(subscription id, 0): (status, sent at)} of its alert rows."""
        out: dict[str, dict[tuple[int, int], tuple[str, datetime | None]]] = {}
        if not story_ids:
            return out
        rows = await conn.execute(
            select(
                t.outbox.c.story_id,
                t.outbox.c.subscription_id,
                t.outbox.c.status,
                t.outbox.c.sent_at,
            ).where(t.outbox.c.story_id.in_(list(story_ids)), t.outbox.c.revision == 0)
        )
        for r in rows:
            out.setdefault(r.story_id, {})[(r.subscription_id, 0)] = (r.status, r.sent_at)
        return out

    async def _queue_edit(
        self, conn: AsyncConnection, subscription_id: int, story_id: str, now: datetime
    ) -> int:
        """Queue an edit of the alert (subscription, story) unless one is pending already (it
        will render the latest state when it goes out). Returns 1 if queued, else 0."""
        rows = (
            await conn.execute(
                select(
                    t.outbox.c.revision,
                    t.outbox.c.status,
                    t.outbox.c.published,
                    t.outbox.c.follows,
                ).where(
                    t.outbox.c.subscription_id == subscription_id,
                    t.outbox.c.story_id == story_id,
                )
            )
        ).all()
        if any(r.revision > 0 and r.status == "pending" for r in rows):
            return 0
        first = next(r for r in rows if r.revision == 0)
        await conn.execute(
            insert(t.outbox).values(
                subscription_id=subscription_id,
                story_id=story_id,
                revision=max(r.revision for r in rows) + 1,
                published=first.published,
                follows=first.follows,  # the edit still says which of its words it holds
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        return 1

    async def poll_lookups(
        self, feed_id: str, ids: Sequence[str], titles: Sequence[str], since: datetime
    ) -> rec.PollLookups:
        """What a changed feed's poll reads before matching, in one statement: the known
        texts of `ids` (known_story_texts), which of `titles` a story of this feed seen since
        `since` has (recent_titles), and the follow generation (follow_generation)."""
        wanted = list(dict.fromkeys(titles))
        if len(ids) > 500 or len(wanted) > 500:  # SQLite's bound-parameter limit: in parts
            return rec.PollLookups(
                await self.known_story_texts(ids),
                await self.recent_titles(feed_id, wanted, since) if wanted else set(),
                await self._read_generation(),
            )
        known: dict[str, tuple[str, str]] = {}
        found: set[str] = set()
        generation = 0
        params = {"ids": list(ids), "feed_id": feed_id, "titles": wanted, "since": since}
        async with self._db.read() as conn:
            for kind, id_, title, summary in await conn.execute(_POLL_LOOKUPS, params):
                if kind == 0:
                    known[id_] = (title, summary)
                elif kind == 1:
                    found.add(title)
                else:
                    generation = int(title) if title else 0
        return rec.PollLookups(known, found, generation)

    async def _read_generation(self) -> int:
        async with self._db.read() as conn:
            return await read_generation(conn)

    async def known_story_texts(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """id -> (title, summary) of the stories of `ids` already stored."""
        known: dict[str, tuple[str, str]] = {}
        async with self._db.read() as conn:
            for start in range(0, len(ids), 500):
                rows = await conn.execute(_KNOWN_TEXTS, {"ids": list(ids[start : start + 500])})
                known.update((r.id, (r.title, r.summary)) for r in rows)
        return known

    async def recent_alerted_stories(self, since: datetime) -> list[rec.GroupedStory]:
        """Matched stories first matched since `since`, oldest first, with their labels and
        event: what the same-event window holds after a restart."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.stories, t.matches.c.labels.label("match_labels"), t.matches.c.matched_at)
                .select_from(t.stories.join(t.matches, t.matches.c.story_id == t.stories.c.id))
                .where(t.matches.c.matched_at >= since)
                .order_by(t.matches.c.matched_at, t.stories.c.id)
            )
            return [
                rec.GroupedStory(
                    story=rec.story_from_row(r),
                    labels=tuple(r.match_labels),
                    event_id=r.event_id,
                    at=r.matched_at,
                )
                for r in rows
            ]

    async def latest_alerts(self, labels: Sequence[str], limit: int = 5) -> list[rec.StoredAlert]:
        """The newest matched stories carrying any of `labels`, newest first."""
        wanted = set(labels)
        found: list[rec.StoredAlert] = []
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.stories, t.matches.c.labels.label("match_labels"), t.matches.c.evidence)
                .select_from(t.stories.join(t.matches, t.matches.c.story_id == t.stories.c.id))
                .order_by(t.stories.c.published.desc(), t.stories.c.id.desc())
                .limit(max(limit * 40, 200))
            )
            for r in rows:
                if wanted.intersection(r.match_labels):
                    found.append(
                        rec.StoredAlert(
                            rec.story_from_row(r), rec.match_from_row(r.match_labels, r.evidence)
                        )
                    )
                    if len(found) == limit:
                        break
        return found

    async def count_stories(self) -> int:
        async with self._db.read() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(t.stories))).scalar() or 0
            )
