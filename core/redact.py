"""Hide anything that might be a secret before text is printed or logged.

The known secrets (the bot tokens read from the environment) are replaced wherever they
appear. Values that merely look like secrets are hidden too, because a self-hoster may paste
one where it does not belong (a token in `telegram.api_base_url`, a password in a feed or
database URL) and an error message must not print it back:

- Telegram bot tokens (`123456789:AAH...`), Discord bot tokens (three base64 parts);
- the user:password part of a URL (`https://user:pass@host` -> `https://[REDACTED]@host`);
- query parameters whose name says secret (`?token=`, `api_key=`, `password=`, `sig=`...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

_TOKEN_SHAPES = re.compile(
    r"(?<![0-9])\d{5,16}:[A-Za-z0-9_-]{25,}"  # Telegram: bot id, colon, secret (/bot<token>)
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"  # Discord
)
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@'\"<>]+@")
_SECRET_QUERY = re.compile(
    r"(?i)([?&;][a-z0-9_.-]*(?:token|key|secret|passw|pwd|auth|sig|credential)[a-z0-9_.-]*=)"
    r"[^&#\s'\"<>]+"
)
MIN_SECRET = 8  # shorter "secrets" would redact ordinary words


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` with the known secrets and every secret-shaped value replaced by REDACTED."""
    for secret in known:
        if len(secret) >= MIN_SECRET:
            text = text.replace(secret, REDACTED)
    text = _TOKEN_SHAPES.sub(REDACTED, text)
    text = _URL_USERINFO.sub(REDACTED + "@", text)
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


def looks_like_token(text: str) -> bool:
    """True if `text` holds a Telegram or Discord bot token."""
    return _TOKEN_SHAPES.search(text) is not None
