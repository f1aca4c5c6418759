"""config.yaml's `feeds:` list, edited in place: comments, key order, quoting and layout kept.

ruamel.yaml's round trip (the rest of the code reads the file with PyYAML, into pydantic): the
file is loaded into commented maps and lists, one list changes, and it is written back. A
comment below the last feed (the next section's heading, e.g. "# HTTP behaviour of the feed
fetcher.") hangs on the last feed's last key in ruamel's model: appending or removing a feed
moves it, so it stays above the section it describes.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken


class FeedFileError(Exception):
    """The file cannot be read or edited as a Mirsad config; the message says why."""


def _yaml() -> YAML:
    yaml = YAML()  # round trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line (feed URLs)
    yaml.indent(mapping=2, sequence=4, offset=2)  # config.yaml's own layout
    return yaml


class FeedFile:
    """One config file's text and its feed list, as the round-trip loader sees them."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        try:
            root = _yaml().load(text)
        except YAMLError as exc:
            raise FeedFileError(f"{path}: not valid YAML: {_first_line(exc)}") from None
        if not isinstance(root, CommentedMap):
            raise FeedFileError(f"{path}: the file must be a mapping of keys (feeds:, ...)")
        self._root = root
        feeds = root.get("feeds")
        if feeds is None:  # no `feeds:` yet (or `feeds:` with nothing after it)
            feeds = CommentedSeq()
            root["feeds"] = feeds
        if not isinstance(feeds, CommentedSeq):
            raise FeedFileError(f"{path}: feeds: expected a list of feeds")
        self._feeds = feeds

    @classmethod
    def read(cls, path: Path) -> FeedFile:
        try:
            return cls(path, path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FeedFileError(f"cannot read {path}: {exc.strerror}") from None

    def entries(self) -> list[Mapping[str, Any]]:
        """The feed entries as written (maps; anything else is left for validation to name)."""
        return [e for e in self._feeds if isinstance(e, Mapping)]

    def index_of(self, feed_id: str) -> int | None:
        for i, entry in enumerate(self._feeds):
            if isinstance(entry, Mapping) and entry.get("id") == feed_id:
                return i
        return None

    def append(self, entry: Mapping[str, Any]) -> None:
        """Add a feed at the end of the list, below the comment-free part of the last one."""
        new = CommentedMap(entry)
        if not len(self._feeds):
            self._feeds.fa.set_block_style()  # `feeds: []` becomes a list of blocks
        trailing = _take_trailing(self._feeds[-1]) if len(self._feeds) else None
        self._feeds.append(new)
        if trailing:
            _give_trailing(new, trailing)

    def remove(self, index: int) -> None:
        """Remove the feed at `index`; the comment lines below it go to the feed before it."""
        trailing = _take_trailing(self._feeds[index])
        del self._feeds[index]
        if trailing and index > 0:
            _give_trailing(self._feeds[index - 1], trailing)

    def render(self) -> str:
        out = io.StringIO()
        _yaml().dump(self._root, out)
        return out.getvalue()


def write_in_place(path: Path, text: str) -> None:
    """Replace the file's content: a temporary file beside it, renamed over it (a crash leaves
    the old file or the new one, never half of one), with the old file's mode and owner.
    A file that cannot be renamed over (a single file bind-mounted into a container) is
    rewritten where it is."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        shutil.copymode(path, temporary)
        st = path.stat()
        with contextlib.suppress(PermissionError):  # not ours to give: the editor's owner
            os.chown(temporary, st.st_uid, st.st_gid)
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)
        path.write_text(text, encoding="utf-8")  # raises OSError when this cannot work either


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _last_key(node: object) -> tuple[CommentedMap, Any] | None:
    if isinstance(node, CommentedMap) and len(node):
        return node, list(node.keys())[-1]
    return None


def _take_trailing(node: object) -> str | None:
    """Remove and return the comment lines below `node` (not a comment on its last line)."""
    found = _last_key(node)
    if found is None:
        return None
    owner, key = found
    slots = owner.ca.items.get(key)
    token = slots[2] if slots and len(slots) > 2 else None
    if not isinstance(token, CommentToken):
        return None
    value: str = token.value
    end_of_line = value.find("\n")
    if end_of_line < 0 or not value[end_of_line + 1 :].strip("\n "):
        return None
    token.value, below = value[: end_of_line + 1], value[end_of_line + 1 :]
    return below


def _give_trailing(node: object, below: str) -> None:
    """Put comment lines below `node`, after any comment lines already there."""
    found = _last_key(node)
    if found is None:
        return
    owner, key = found
    slots = owner.ca.items.setdefault(key, [None, None, None, None])
    token = slots[2]
    if isinstance(token, CommentToken):
        token.value += below
    else:
        slots[2] = CommentToken("\n" + below, CommentMark(0), None)
