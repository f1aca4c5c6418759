# Mirsad in one container. Build: docker build -t mirsad .   (see README "Self-hosting in Docker")
# Pinned base: Python 3.11 is what the tests run on.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them (layer cache).
# Same install command as the README's: pip install -r requirements.txt
COPY requirements.txt ./
RUN python -m pip install --no-cache-dir -r requirements.txt

COPY bot.py config.py models.py config.yaml pyproject.toml ./
COPY alerts ./alerts
COPY charts ./charts
COPY feedlist ./feedlist
COPY feeds ./feeds
COPY filters ./filters
COPY events ./events
COPY core ./core
COPY platforms ./platforms
COPY runtime ./runtime
COPY store ./store
COPY web ./web

# An unprivileged user owns only the data folder; the code stays read-only to it.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin mirsad \
    && mkdir -p /app/data \
    && chown mirsad:mirsad /app/data
USER 10001:10001

# The SQLite database (config.yaml: database: data/mirsad.db) lives here: mount a volume.
VOLUME ["/app/data"]

# No EXPOSE: /healthz and /metrics listen on health.host (127.0.0.1 by default), inside the
# container; docker-compose.yml shows how to publish them.
# Here the health endpoint is required: a busy health.port stops the bot with one line.
ENV MIRSAD_HEALTH_REQUIRED=1
# `bot.py healthcheck` asks /healthz at the configured health.host and health.port (8 s
# timeout: /healthz can take seconds while the first poll of many feeds parses them).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "bot.py", "healthcheck", "--config", "config.yaml"]

# Tokens come only from the environment (TELEGRAM_BOT_TOKEN, DISCORD_BOT_TOKEN or *_FILE).
CMD ["python", "bot.py", "run", "--config", "config.yaml"]
