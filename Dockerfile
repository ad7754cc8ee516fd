# The monitor as a container: `docker build -t monitor .` then
# `docker run -v $PWD/config:/app/config -v monitor-data:/app/data -p 9464:9464 \
#     --env-file monitor.env monitor`, monitor.env holding MONITOR_WEB_TOKEN (below).
# docs/operations.md has the rest (PostgreSQL, secrets, several instances).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir monitor && touch monitor/__init__.py \
    && pip install . \
    && pip uninstall --yes governance-news-monitor \
    && rm -r monitor

COPY monitor ./monitor
COPY run_monitor.py ./
RUN pip install --no-deps .

COPY config ./config
RUN useradd --system --uid 10001 --home-dir /app monitor \
    && mkdir -p /app/data \
    && chown monitor /app/data
USER 10001

# One HTTP server on every interface of the container (reachable from outside only through
# a published port): the web application, /healthz and /metrics. Beyond loopback it needs
# MONITOR_WEB_TOKEN (16 characters or more, e.g. `openssl rand -hex 24`), given at run time
# (`--env-file`, `-e`, your orchestrator's secrets): without it `monitor run` exits with
# status 2 and says so. No token is built into the image. /healthz and /metrics need none.
ENV MONITOR_CONFIG_DIR=/app/config \
    MONITOR_DATABASE_URL=sqlite:////app/data/monitor.db \
    MONITOR_SERVER_HOST=0.0.0.0 \
    MONITOR_SERVER_PORT=9464
VOLUME ["/app/config", "/app/data"]
EXPOSE 9464

# Unhealthy when no cycle has ended for server.stale_after (503), or nothing answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status != 200)"]

# Logs go to stdout as JSON lines (not a terminal). SIGTERM (docker stop) finishes or releases
# the work in flight within shutdown_timeout (30 s): give docker stop a longer --time.
STOPSIGNAL SIGTERM
CMD ["monitor", "run"]
