"""Snippets show why a profile matched: the clauses that decided it, the most specific first,
never a snippet with none of them; matched terms and marks in the text's own spelling."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.models import Match
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import Matcher, outcome
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.query import parse_query
from monitor.profiles.snippets import MARK
from tests.conftest import REPO

SEED = REPO.parent / "shared" / "seed" / "world-internet-conference-2014.txt"
CONCEPTS = {
    "GFW": ("Great Firewall", "防火长城"),
    "China": ("China", "Chinese", "中国"),
    "Internet": ("internet", "online", "互联网", "网络"),
    "CAC": ("Cyberspace Administration of China", "国家互联网信息办公室", "网信办"),
}
# the shape of the shipped great_firewall profile: a name, or censorship near China in a text
# about the internet (the AND's context)
GFW_QUERY = "@GFW OR ((censor* OR 审查) NEAR/10 @China AND @Internet)"
_MARKED = re.compile(re.escape(MARK) + "(.+?)" + re.escape(MARK))


def profile(query: str, **options: object) -> Profile:
    node = parse_query(query, concepts=CONCEPTS)
    return Profile(name="p", version="v1", query=node, query_text=query, **options)  # type: ignore[arg-type]


def match(query: str, text: str, title: str = "") -> Match:
    [found] = Matcher([profile(query)]).match(Doc(title, text))
    return found


def marked(snippet: str) -> list[str]:
    return _MARKED.findall(snippet)


def deciding_gfw(term: str) -> bool:
    """A term that decides GFW_QUERY (or the shipped great_firewall profile)."""
    folded = term.casefold()
    return folded in ("great firewall", "防火长城") or folded.startswith("censor") or "审查" in term


# an article about the internet in which the context word comes first and most often
INTERNET_TALK = (
    "The internet conference opened with talks on the internet economy. Internet firms, "
    "internet users and online shops filled the halls, and the internet was everywhere. "
)
MIXED_TEXT = (
    INTERNET_TALK * 4
    + "Delegates from China spoke about trade. " * 3
    + "Critics said China's censors had a busy year. "
    + INTERNET_TALK * 3
    + "Foreign news sites stay blocked by the Great Firewall. "
    + INTERNET_TALK * 3
    + "会议期间，中国互联网企业介绍了新产品。"
    + "有评论认为，防火长城今年屏蔽了更多境外网站。"
    + INTERNET_TALK * 2
)


def test_snippets_show_the_deciding_clauses_of_an_english_and_chinese_text() -> None:
    found = match(GFW_QUERY, MIXED_TEXT)

    assert len(found.snippets) == 3
    assert found.snippet == found.snippets[0]
    first, second, third = found.snippets
    assert f"{MARK}Great Firewall{MARK}" in first  # the rarest, most specific term first
    assert f"{MARK}防火长城{MARK}" in second  # its Chinese name
    assert f"said {MARK}China{MARK}'s {MARK}censors{MARK} had" in third  # the NEAR, whole
    for snippet in found.snippets:  # every snippet shows something that decided the match
        assert any(deciding_gfw(term) for term in marked(snippet)), snippet
    # the AND's context ("internet", ×40) is marked where shown, but earns no snippet of its own
    assert not any(s.startswith("The internet conference") for s in found.snippets)


def test_a_near_is_shown_as_one_window_holding_both_parts() -> None:
    text = INTERNET_TALK * 5 + "In China the censors removed posts. " + INTERNET_TALK * 5
    found = match("(censor* NEAR/5 @China) AND @Internet", text)
    [snippet] = found.snippets  # "internet" ×50 decides nothing: no snippet of its own
    assert f"In {MARK}China{MARK} the {MARK}censors{MARK} removed posts" in snippet


def test_a_phrase_found_once_comes_before_a_common_word_found_first() -> None:
    text = INTERNET_TALK * 6 + "Some call it the Great Firewall. " + INTERNET_TALK * 6
    found = match('"great firewall" OR internet', text)
    assert f"{MARK}Great Firewall{MARK}" in found.snippet
    assert found.snippets[1:] and all("Great Firewall" not in s for s in found.snippets[1:])


def test_no_two_snippets_show_the_same_text() -> None:
    text = "The Great Firewall grew. " + INTERNET_TALK * 8 + "The Great Firewall again."
    found = match('"great firewall" OR internet', text)
    assert len(found.snippets) == 3
    bodies = [s.strip("…").replace(MARK, "") for s in found.snippets]
    for i, one in enumerate(bodies):
        for other in bodies[i + 1 :]:
            assert one not in other and other not in one


@pytest.mark.skipif(
    not SEED.exists(), reason=f"no seed article at {SEED} (a clone without ../shared)"
)
def test_seed_article_snippets_show_the_great_firewall_and_censorship_not_only_internet() -> None:
    text = SEED.read_text(encoding="utf-8")
    [great_firewall] = [p for p in load_profiles(REPO / "config") if p.name == "great_firewall"]

    [found] = Matcher([great_firewall]).match(Doc("", text, language="en"))

    assert any(f"{MARK}Great Firewall{MARK}" in s for s in found.snippets)
    assert any(f"{MARK}censorship{MARK}" in s for s in found.snippets)
    for snippet in found.snippets:
        assert any(deciding_gfw(term) for term in marked(snippet)), snippet


WORDS = ["internet", "China", "censors", "great firewall", "rice", "the", "online", "中国"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=120))
def test_every_snippet_marks_a_deciding_term(words: list[str]) -> None:
    text = " ".join(words)
    for found in Matcher([profile(GFW_QUERY)]).match(Doc("", text)):
        assert found.snippets
        for snippet in found.snippets:
            assert any(deciding_gfw(term) for term in marked(snippet)), (text, snippet)


# --- matched terms and marks as the text spells them -----------------------------------------


def test_a_traditional_text_shows_its_own_characters() -> None:
    found = match("@CAC", "據報導，國家網信辦昨日發布新規。")
    assert found.matched_terms == ["網信辦"]
    assert f"{MARK}網信辦{MARK}" in found.snippet


def test_the_headline_spelling_is_the_first_and_pinyin_inserted_by_mirrors_is_left_out() -> None:
    found = match("网信办 OR 互联网大会", "网信办与互聯(lián)網(wǎng)大會", title="國家網信辦")
    assert found.matched_terms == ["網信辦", "互聯網大會"]


def test_terms_differing_only_in_letter_case_keep_the_profiles_spelling() -> None:
    found = match('"Great Firewall" OR censor*', "THE GREAT  FIREWALL AND ITS CENSORS")
    assert found.matched_terms == ["Great Firewall", "censor*"]
    assert f"{MARK}GREAT FIREWALL{MARK}" in found.snippet  # marks: the text as written


def test_a_profile_that_does_not_match_says_why() -> None:
    matcher = Matcher([prof := profile("firewall", languages=("zh",), min_score=2)])
    assert outcome(matcher.evaluation(prof, Doc("", "bread"))).why_not == (
        "the query does not hold"
    )
    english = outcome(matcher.evaluation(prof, Doc("", "a firewall", language="en")))
    assert not english.matched and "language (en)" in english.why_not
    low = outcome(matcher.evaluation(prof, Doc("", "a firewall", language="zh")))
    assert low.why_not == "score 1 is below min_score 2" and not low.snippets
