"""One running instance: its configuration and cycles (service), the process around it
(lifecycle: lock, signals, jobs, shutdown), its one HTTP server (httpserver: the web application,
/healthz, /metrics, handed in by the CLI) and its metrics."""
