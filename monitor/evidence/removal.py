"""Recognising a page that says the article is gone, though it may answer 200.

Sites rarely answer a deleted article with 404. Chinese platforms show a notice in place of
the text ("此内容因违规无法查看"), news sites redirect to their home page or to the section
the article was listed in, and some answer any unknown address with the same friendly page
(a "soft 404"). Three checks, each a function of values:

- `says_removed`: a removal notice in the title, or in a short text. Not in a long one: an
  article about deletions quotes these phrases, and an article that quoted one when it was
  first fetched does not count either.
- `redirect_kind` / `is_home_or_section`: where a redirect ended. Moving to https, adding a
  trailing slash or reordering the query is the same page.
- `similar_to_missing`: the page answers as the site answers an address that cannot exist
  (the probe, fetched by the caller).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlsplit

from monitor.evidence.textdiff import sentences
from monitor.profiles.normalize import fold, is_cjk

# What removal notices say, per language; matched folded (Traditional forms, full-width
# punctuation and case count as the same).
PHRASES: dict[str, tuple[str, ...]] = {
    "zh": (
        "该内容已被删除",
        "内容已被删除",
        "页面不存在",
        "此内容因违规无法查看",
        "该文章已被删除",
        "抱歉，您访问的页面不存在",
        "此文章已被作者删除",
        "该帖子已被删除",
        "内容涉嫌违规",
        "已被屏蔽",
        "该文章已被删除或不存在",
        "文章不存在",
        "该页面已被删除",
        "内容已下线",
        "此内容已被发布者删除",
    ),
    "en": (
        "404 Not Found",
        "Page not found",
        "This page is no longer available",
        "This article has been removed",
        "The page you requested could not be found",
        "This content is no longer available",
        "This article is no longer available",
    ),
    "ru": (
        "Страница не найдена",
        "Материал удален",
        "Страница удалена",
        "Запрашиваемая страница не найдена",
        "Материал не найден",
        "Статья удалена",
    ),
}
SHORT_TEXT = 600  # folded characters: a notice page is short, an article quoting one is not
SIMILAR = 0.9  # a page this close to the probe's answer is that answer

_HOME = re.compile(
    r"/?(?:[a-z]{2}(?:[-_][a-z]{2,4})?/?)?"  # a bare language segment: /en/, /zh-cn
    r"(?:(?:index|default|home)(?:\.(?:html?|shtml|php|jsp|aspx?))?)?/?",
    re.IGNORECASE,
)
_INDEX_FILE = re.compile(r"(?:index|default|list)(?:_\d+)?\.(?:html?|shtml|php|jsp|aspx?)")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TOKEN = re.compile(r"[^\W_]+")
_ADDRESS = re.compile(r"\S*/\S*")


@lru_cache(maxsize=1)
def _folded_phrases() -> tuple[tuple[str, str], ...]:
    """(folded, as listed) for every phrase, longest first (a page that says 抱歉，您访问的
    页面不存在 is reported with all of it); folded once, on first use (fold loads OpenCC)."""
    found = ((fold(p)[0], p) for group in PHRASES.values() for p in group)
    return tuple(sorted(found, key=lambda pair: -len(pair[0])))


def says_removed(text: str, title: str, original_text: str) -> str | None:
    """The removal phrase the page shows (in its title, or in a text under SHORT_TEXT folded
    characters) that the original text did not hold; None when there is none."""
    folded_title = fold(title)[0]
    folded_text = fold(text)[0]
    places = [folded_title] + ([folded_text] if len(folded_text) < SHORT_TEXT else [])
    original = fold(original_text)[0]
    for phrase, listed in _folded_phrases():
        if phrase not in original and any(phrase in place for place in places):
            return listed
    return None


def redirect_kind(original_url: str, final_url: str) -> str | None:
    """Where a redirect that means removal ended: "the site's home page", "a section page" or
    "another site"; None when it is the same page or plausibly the article moved."""
    if not final_url:  # no address after redirects is no redirect known
        return None
    old, new = urlsplit(original_url), urlsplit(final_url)
    old_path, new_path = _path(old.path), _path(new.path)
    old_query, new_query = _query(old.query), _query(new.query)
    if _site(old.hostname, old.scheme, old.port) != _site(new.hostname, new.scheme, new.port):
        # Another host serving the same address is the site moved (to a new domain, to
        # "m."); at another address it is someone else's page, a parked domain's among them.
        return None if (old_path, old_query) == (new_path, new_query) else "another site"
    if (old_path, old_query) == (new_path, new_query):
        return None
    # The home page, whatever its query ("/?from=404"), unless the article itself was
    # addressed by a query on it ("/?p=123"): then only the bare home page.
    if _HOME.fullmatch(new_path) and not (_HOME.fullmatch(old_path) and new_query):
        return "the site's home page"
    if _is_section(old_path, new_path):
        return "a section page"
    return None


def is_home_or_section(original_url: str, final_url: str) -> bool:
    """A redirect from the article's address to the site's home, one of its section pages or
    another site (see redirect_kind)."""
    return redirect_kind(original_url, final_url) is not None


def similar_to_missing(text: str, probe_text: str) -> bool:
    """The page's text is the one the site gives for an address that cannot exist: both
    non-empty and at least SIMILAR alike, by sentences (difflib ratio over the folded
    sentence lists) or by words (Jaccard of the folded words; Chinese by character pairs),
    whichever is higher. Addresses and paths (anything with a "/") are left out first: a
    notice often repeats the address asked for, which is all that differs between the two."""
    text, probe_text = _ADDRESS.sub(" ", text), _ADDRESS.sub(" ", probe_text)
    page = [s.key for s in sentences(text, drop_boilerplate=False)]
    probe = [s.key for s in sentences(probe_text, drop_boilerplate=False)]
    if not page or not probe:
        return False
    by_sentence = SequenceMatcher(None, page, probe, autojunk=False).ratio()
    words, probe_words = _words(text), _words(probe_text)
    by_word = len(words & probe_words) / len(words | probe_words)
    return max(by_sentence, by_word) >= SIMILAR


def _words(text: str) -> set[str]:
    """Folded words; a run of CJK characters gives its character pairs (or the one character)."""
    out: set[str] = set()
    for token in _TOKEN.findall(fold(text)[0]):
        if is_cjk(token[0]) and len(token) > 1:
            out.update(token[i : i + 2] for i in range(len(token) - 1))
        else:
            out.add(token)
    return out


def _site(host: str | None, scheme: str, port: int | None) -> tuple[str, int | None]:
    """The host without "www." and a port only when it is not the scheme's default."""
    name = (host or "").lower().removeprefix("www.")
    return name, None if port in (None, _DEFAULT_PORTS.get(scheme.lower())) else port


def _path(path: str) -> str:
    """The path decoded, without a trailing slash ("/" for none)."""
    return unquote(path).rstrip("/") or "/"


def _query(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(query, keep_blank_values=True)))


def _is_section(old_path: str, new_path: str) -> bool:
    """The new path lists what the old one was listed under: fewer segments (an index file
    at its end not counted), all of them found in order among the old path's, and not the
    old path's last segment (the article's own name: that would be the article moved)."""
    old = [s.lower() for s in old_path.split("/") if s]
    new = [s.lower() for s in new_path.split("/") if s]
    if new and _INDEX_FILE.fullmatch(new[-1]):
        new.pop()
    if not new or len(new) >= len(old) or old[-1] in new:
        return False
    rest = iter(old)
    return all(segment in rest for segment in new)
