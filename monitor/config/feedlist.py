"""The feed list in config/feeds.yaml: load and validate it, edit it in place, OPML in and out."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from defusedxml import ElementTree as SafeXML
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.config.settings import parse_duration
from monitor.config.yamlfile import line_of, read_yaml, round_trip_yaml, validate
from monitor.errors import ConfigError
from monitor.models import FeedSpec

FEEDS_FILE = "feeds.yaml"
MIN_INTERVAL = 60


def check_feed_url(url: str) -> str:
    """A feed URL must be absolute http(s) with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an absolute http:// or https:// URL, got {url!r}")
    return url.strip()


class _FeedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    name: str | None = None
    interval: Annotated[float, BeforeValidator(parse_duration), Field(ge=MIN_INTERVAL)] | None = (
        None
    )
    enabled: bool = True

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_feed_url(v)))


class _FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeds: list[_FeedItem] = []


def feeds_path(config_dir: Path) -> Path:
    return config_dir / FEEDS_FILE


def load_feeds(config_dir: Path) -> list[FeedSpec]:
    """All feeds of feeds.yaml, validated; a URL listed twice is an error naming both lines."""
    path = feeds_path(config_dir)
    data = read_yaml(path)
    parsed = validate(_FeedsFile, data, path)
    seen: dict[str, int] = {}
    specs = []
    for index, item in enumerate(parsed.feeds):
        line = line_of(data, ["feeds", index]) or 0
        if item.url in seen:
            raise ConfigError(
                f"feeds[{index}].url: {item.url} is already listed at line {seen[item.url]}",
                path=path,
                line=line,
            )
        seen[item.url] = line
        interval = None if item.interval is None else int(item.interval)
        specs.append(FeedSpec(item.url, item.name, interval, item.enabled))
    return specs


def _edit(config_dir: Path) -> tuple[Path, CommentedMap, CommentedSeq]:
    path = feeds_path(config_dir)
    data = read_yaml(path) if path.exists() else None
    if data is None:
        data = CommentedMap()
    validate(_FeedsFile, data, path)  # never rewrite a file we could not read correctly
    if not isinstance(data.get("feeds"), CommentedSeq):
        data["feeds"] = CommentedSeq()
    return path, data, data["feeds"]


def _write(path: Path, data: CommentedMap) -> None:
    tmp = path.with_suffix(".yaml.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        round_trip_yaml().dump(data, fh)
    tmp.replace(path)


def add_feeds(config_dir: Path, specs: Iterable[FeedSpec]) -> list[FeedSpec]:
    """Append feeds not yet listed (comments and order of the file are kept); return the added."""
    path, data, feeds = _edit(config_dir)
    present = {str(item.get("url")) for item in feeds if isinstance(item, CommentedMap)}
    added = []
    for spec in specs:
        url = check_feed_url(spec.url)
        if url in present:
            continue
        item = CommentedMap(url=url)
        if spec.name:
            item["name"] = spec.name
        if spec.interval:
            item["interval"] = spec.interval
        feeds.append(item)
        present.add(url)
        added.append(spec)
    if added:
        _write(path, data)
    return added


def remove_feed(config_dir: Path, url: str) -> bool:
    """Remove one feed by URL; False when it was not listed."""
    path, data, feeds = _edit(config_dir)
    for index, item in enumerate(feeds):
        if isinstance(item, CommentedMap) and item.get("url") == url.strip():
            del feeds[index]
            _write(path, data)
            return True
    return False


def read_opml(path: Path) -> list[FeedSpec]:
    """Feeds of an OPML file (every outline with an xmlUrl, nested folders included)."""
    try:
        root = SafeXML.parse(path).getroot()
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except Exception as exc:  # noqa: BLE001  (defusedxml raises many unrelated types)
        raise ConfigError(f"not a readable OPML document: {exc}", path=path) from None
    specs = []
    if root is None:
        raise ConfigError("not an OPML document (empty)", path=path)
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if not url:
            continue
        try:
            check_feed_url(url)
        except ValueError as exc:
            raise ConfigError(f"outline {outline.get('text') or url!r}: {exc}", path=path) from None
        name = outline.get("title") or outline.get("text") or None
        specs.append(FeedSpec(url=url, name=name))
    return specs


def write_opml(specs: Iterable[FeedSpec], title: str = "governance-news-monitor feeds") -> str:
    """An OPML 2.0 document listing the feeds."""
    opml = Element("opml", version="2.0")
    SubElement(SubElement(opml, "head"), "title").text = title
    body = SubElement(opml, "body")
    for spec in specs:
        attrs = {"type": "rss", "xmlUrl": spec.url, "text": spec.name or spec.url}
        if spec.name:
            attrs["title"] = spec.name
        SubElement(body, "outline", attrs)
    indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(opml, encoding="unicode") + "\n"
