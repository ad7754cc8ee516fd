"""The web face: a read API (/api/v1, described by /openapi.json) over the archive, built on the
layers below like the CLI; nothing imports it but the `monitor web` command."""
