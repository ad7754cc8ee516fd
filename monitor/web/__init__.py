"""The web face: pages, a read API (/api/v1, described by /openapi.json), Atom feeds and search
over the archive, built on the layers below like the CLI; `monitor run` and `monitor web`
serve it (docs/web.md)."""
