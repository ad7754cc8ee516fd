# The monitor as a container: `docker build -t monitor .` then
# `docker run -v $PWD/config:/app/config -v monitor-data:/app/data monitor`.
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
USER monitor

ENV MONITOR_CONFIG_DIR=/app/config \
    MONITOR_DATABASE_URL=sqlite:////app/data/monitor.db
VOLUME ["/app/config", "/app/data"]

# Logs go to stderr as JSON lines (not a terminal); SIGTERM stops the service cleanly.
CMD ["monitor", "run"]
