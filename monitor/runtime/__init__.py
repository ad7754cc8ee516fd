"""One running instance: its configuration and cycles (service), the process around it
(lifecycle: lock, signals, jobs, shutdown), the /healthz and /metrics server and its metrics."""
