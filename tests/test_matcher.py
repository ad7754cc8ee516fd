"""Matching: the normaliser's foldings, word boundaries, CJK, proximity, NOT, fields, concepts,
scores and snippets — all on values, no I/O — plus properties that random input never crashes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.models import Match
from monitor.profiles.evaluate import NEAR_ANCHORS, FoldedField
from monitor.profiles.explain import explain
from monitor.profiles.matcher import Matcher, outcome
from monitor.profiles.normalize import _fold_char, _pinyin_spans, fold, fold_term, is_cjk
from monitor.profiles.profile import Doc, Profile
from monitor.profiles.query import MAX_DEPTH, parse_query
from monitor.profiles.querysyntax import QueryError
from monitor.profiles.snippets import MARK

CONCEPTS = {"CAC": ("Cyberspace Administration of China", "国家互联网信息办公室", "网信办")}


def profile(query: str, name: str = "p", **options: object) -> Profile:
    node = parse_query(query, concepts=CONCEPTS, allow_regex=True)
    return Profile(name=name, version="v1", query=node, query_text=query, **options)  # type: ignore[arg-type]


def match(query: str, text: str = "", title: str = "", **doc: str | None) -> Match | None:
    found = Matcher([profile(query)]).match(Doc(title=title, text=text, **doc))  # type: ignore[arg-type]
    return found[0] if found else None


# --- the normaliser, one folding at a time -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Great Firewall", "great firewall"),  # case folding
        ("STRASSE Straße", "strasse strasse"),  # full case folding, not lower()
        ("Ｇｒｅａｔ　Ｆｉｒｅｗａｌｌ", "great firewall"),  # NFKC: full-width letters and space
        ("ﬁrewall", "firewall"),  # NFKC: the fi ligature
        ("網絡主權", "网络主权"),  # Traditional folded to Simplified
        ("國家互聯網信息辦公室", "国家互联网信息办公室"),
        ("China’s China`s", "china's china`s"),  # typographic apostrophe
        ("fire\u200bwall fire\u00adwall \ufeffwall", "firewall firewall wall"),  # invisible
        ("  great \t\n firewall  ", "great firewall"),  # whitespace collapsed and trimmed
        ("防火 长城", "防火长城"),  # no space between CJK characters
        ("防火 Great 长城", "防火 great 长城"),  # … but kept next to Latin words
        ("互聯(lián)網(wǎng)大會(huì )", "互联网大会"),  # pinyin inserted by mirror sites
        ("网信办(CAC)", "网信办(cac)"),  # an acronym in parentheses is not pinyin
        ("Welt\u2011Internet\u2013Konferenz", "welt-internet-konferenz"),  # hyphens and dashes
        ("Вошёл ЁЖ", "вошел еж"),  # ё written as е
    ],
)
def test_folding(text: str, folded: str) -> None:
    assert fold(text)[0] == folded


def test_fold_maps_back_to_original_positions() -> None:
    folded, origin = fold("  Ａ\u200bB\u3000\u3000c ß")
    assert folded == "ab c ss"
    assert origin == [2, 4, 5, 7, 8, 9, 9]


# --- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text", "hit"),
    [
        ('"Great Firewall"', "The Great Firewall blocks it", True),
        ('"Great Firewall"', "the great firewall's reach", True),
        ('"Great Firewall"', "the Great Firewall’s reach", True),  # typographic apostrophe
        ('"Great Firewall"', "two great firewalls", True),  # plural
        ('"Great Firewall"', "a greatfirewall", False),
        ('"Great Firewall"', "the Great Firewallz", False),
        ('"Great Firewall"', "ungreat firewall", False),
        ('"Great Firewall"', "Ｇｒｅａｔ Ｆｉｒｅｗａｌｌ", True),
        ("防火长城", "据报道防火长城将继续运行", True),  # CJK: no boundaries needed
        ("防火长城", "據報道防火長城將繼續運行", True),  # Traditional text, Simplified term
        ("網絡主權", "坚持网络主权", True),  # Traditional term, Simplified text
        ("CAC网信办", "据CAC网信办消息", True),  # mixed script: a CJK neighbour is a boundary
        ("CAC网信办", "据XCAC网信办消息", False),  # … the Latin side still needs one
        ("censor*", "Censorship grew", True),  # prefix wildcard
        ("censor*", "the censors", True),
        ("censor*", "uncensored", False),
        ("firewall", "FIREWALL", True),
        ("интернет-цензура", "Интернет-цензура в Китае", True),  # Cyrillic, hyphenated
        ("great firewall", "firewall … great", True),  # AND: both, anywhere
        ("great OR wall", "a wall", True),
        ("firewall -building", "firewall codes for building", False),
        ("firewall NOT building", "firewall of China", True),
    ],
)
def test_terms_and_operators(query: str, text: str, hit: bool) -> None:
    assert (match(query, text) is not None) is hit


@pytest.mark.parametrize(
    ("query", "text", "hit"),
    [
        ("CAC NEAR/3 draft", "the CAC released a new draft", True),  # 3 words between
        ("CAC NEAR/2 draft", "the CAC released a new draft", False),
        ("CAC NEAR/3 draft", "a draft released by the CAC", True),  # either order
        (
            '"cyberspace administration draft"~5',
            "draft rules from the Cyberspace Administration",
            True,
        ),
        (
            '"cyberspace administration draft"~1',
            "draft rules from the Cyberspace Administration",
            False,
        ),
        ("@CAC NEAR/5 (draft OR 草案)", "网信办发布草案", True),  # a CJK character is a word
        ("@CAC NEAR/1 草案", "网信办今天发布了新的草案", False),
        ("a NEAR/1 b NEAR/1 c", "a x b x c", True),
        ("a NEAR/1 b NEAR/1 c", "a x b x x c", False),
    ],
)
def test_proximity(query: str, text: str, hit: bool) -> None:
    assert (match(query, text) is not None) is hit


def test_proximity_stays_within_one_field() -> None:
    assert match("CAC NEAR/2 draft", title="CAC", text="draft") is None
    assert match("CAC NEAR/2 draft", title="CAC draft", text="nothing") is not None


def test_field_scopes() -> None:
    assert match("title:firewall", title="Firewall news", text="nothing") is not None
    assert match("title:firewall", title="News", text="firewall") is None
    assert match("text:firewall", title="Firewall", text="no") is None
    assert match("firewall url:gov.cn", text="firewall", url="https://www.cac.gov.cn/a") is not None
    assert match("firewall url:gov.cn", text="firewall", url="https://example.org/a") is None
    assert match("firewall source:xinhua", text="firewall", source="Xinhua English") is not None
    assert match("firewall source:xinhua", text="firewall", source="BBC") is None


@pytest.mark.parametrize(
    ("language", "hit"),
    [("zh", True), ("zh-CN", True), ("zh_Hant", True), ("en", False), (None, False)],
)
def test_language_codes_match_by_prefix(language: str | None, hit: bool) -> None:
    assert (match("防火长城 lang:zh", text="防火长城", language=language) is not None) is hit


def test_profile_language_and_source_filters() -> None:
    only_zh = profile("防火长城", languages=("zh",), sources=("BBC",))
    matcher = Matcher([only_zh])
    assert matcher.match(Doc("", "防火长城", source="BBC 中文", language="zh-CN"))
    assert not matcher.match(Doc("", "防火长城", source="BBC 中文", language="en"))
    assert not matcher.match(Doc("", "防火长城", source="DW", language="zh"))


def test_concepts_expand_to_their_aliases() -> None:
    found = match("@CAC", text="据国家互联网信息办公室消息")
    assert found is not None
    assert found.matched_terms == ["国家互联网信息办公室"]


def test_only_clauses_that_held_give_terms_score_and_snippets() -> None:
    text = "The Great Firewall. Film censors cut many scenes last year. China exports rice."
    found = match('"great firewall" OR (censor* NEAR/3 china)', text)
    assert found is not None
    assert found.matched_terms == ["great firewall"]
    assert found.score == 1.0
    assert "**censors**" not in found.snippet


def test_proximity_counts_only_the_occurrences_inside_its_window() -> None:
    text = "China is big. " * 5 + "Censors in China removed posts." + " China trade grew." * 5
    found = match("censor* NEAR/3 china", text)
    assert found is not None
    assert found.score == 2.0  # "Censors" and the one "China" next to it, not all six


class CountedField(FoldedField):
    """A folded field that counts its word-number lookups: the work a NEAR does on it."""

    lookups = 0

    def token_at(self, offset: int) -> int:
        self.lookups += 1
        return super().token_at(offset)


def test_near_work_per_article_is_bounded_however_often_its_parts_occur() -> None:
    text = "alpha beta gamma " * (20 * NEAR_ANCHORS)  # each part 20 times the anchors tried
    body = CountedField.of(text)
    matcher = Matcher([profile("alpha NEAR/2 beta NEAR/2 gamma")])
    [found] = matcher.match(Doc(title="", text=text), {"title": FoldedField.of(""), "text": body})
    assert found.matched_terms == ["alpha", "beta", "gamma"]
    # per anchor: its word, two candidates for each other part, both ends of each part
    assert 0 < body.lookups <= NEAR_ANCHORS * (1 + 2 * 2 + 2 * 3)


def test_near_starts_from_its_rarest_part() -> None:
    text = "the " * (3 * NEAR_ANCHORS) + "great firewall"  # "the" past the anchors tried
    found = match("the NEAR/1 firewall", text)
    assert found is not None
    assert found.matched_terms == ["the", "firewall"]
    assert found.snippet.endswith("the **the** great **firewall**")


def test_a_query_nested_to_the_limit_is_evaluated_and_explained() -> None:
    deep = "x (" * (MAX_DEPTH - 1) + "NOT y" + ")" * (MAX_DEPTH - 1)  # 31 groups and a NOT
    found = match(deep, "x marks the spot")
    assert found is not None and found.matched_terms == ["x"]
    matcher = Matcher([profile(deep)])
    evaluation = matcher.evaluation(matcher.profiles[0], Doc(title="", text="x"))
    assert len(explain(evaluation)) == 2 * MAX_DEPTH  # each AND and its x, then NOT and y


def test_concept_aliases_may_end_with_a_wildcard() -> None:
    concepts = {"CENSOR": ("censor*", "цензур*")}
    node = parse_query("@CENSOR", concepts=concepts)
    matcher = Matcher([Profile(name="p", version="v", query=node)])
    assert matcher.match(Doc("", "Интернет-цензура растёт"))
    assert matcher.match(Doc("", "censorship grows"))


def test_regex_runs_on_folded_text() -> None:
    assert match("/gfw-?\\d+/", text="Report GFW-2024 out") is not None
    assert match("/gfw-?\\d+/", text="Report GFW out") is None


def test_catastrophic_regex_gives_up_instead_of_hanging() -> None:
    assert match("/(a+)+$/", text="a" * 40 + "!") is None


def test_title_matches_weigh_more_and_min_score_applies() -> None:
    strict = Matcher([profile("censorship", min_score=3)])
    assert not strict.match(Doc("Weather", "Some censorship here."))
    [found] = strict.match(Doc("Censorship grows", "Nothing else."))
    assert found.score == 3.0


def test_matched_terms_fold_duplicates_together() -> None:
    found = match("网络主权 OR 網絡主權 OR sovereignty", text="坚持网络主权")
    assert found is not None and found.matched_terms == ["网络主权"]


def test_snippets_mark_matches_in_original_spelling() -> None:
    text = (
        "x " * 200
        + "Critics of China's GREAT  Firewall said the firewall grows."
        + " y" * 400
        + " firewall again"
    )
    found = match('"great firewall" OR firewall', text)
    assert found is not None
    assert f"{MARK}GREAT Firewall{MARK}" in found.snippet
    assert f"the {MARK}firewall{MARK} grows" in found.snippet
    assert found.snippet.startswith("…") and found.snippet.endswith("…")
    assert len(found.snippets) == 2 and "again" in found.snippets[1]
    assert found.snippets[0] == found.snippet


def test_one_matcher_serves_many_profiles() -> None:
    profiles = [
        profile('"Great Firewall" OR 防火长城', "gfw"),
        profile("@CAC", "cac"),
        profile("bread", "off"),
    ]
    matches = Matcher(profiles).match(Doc("网信办", "The Great Firewall"))
    assert sorted(m.profile for m in matches) == ["cac", "gfw"]


def test_disabled_profiles_never_match() -> None:
    assert Matcher([profile("bread", enabled=False)]).match(Doc("bread", "bread")) == []


def test_outcome_reports_terms_even_without_a_match() -> None:
    prof = profile("firewall AND china")
    result = outcome(Matcher([prof]).evaluation(prof, Doc("", "a firewall")))
    assert not result.matched
    assert result.matched_terms == ["firewall"]


# --- properties: nothing crashes, the fast folding path agrees with the simple one --------


def reference_fold(text: str) -> str:
    """Character by character, the way the module docstring describes it (the oracle)."""
    skip = _pinyin_spans(text)
    out = ""
    pending = False
    for index, ch in enumerate(text):
        folded = "" if index in skip else _fold_char(ch)
        if folded == " ":
            pending = bool(out)
        elif folded:
            if pending and not (is_cjk(out[-1]) and is_cjk(folded[0])):
                out += " "
            pending = False
            out += folded
    return out


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            [*list("aZ '(),.-\t\n\u3000\u200b网絡互聯(lián)ìá "), "ﬁ", "ß", "’", "¨"]
        ),
        max_size=60,
    )
)
def test_fast_folding_agrees_with_the_reference(text: str) -> None:
    assert fold(text)[0] == reference_fold(text)


WORDS = st.sampled_from(
    ["firewall", "great", "防火长城", "網絡", "CAC", "draft", "e-commerce", "ß", "Ｇ", "'s", "a"]
)
QUERY_PIECES = st.sampled_from(
    ["AND", "OR", "NOT", "-", "(", ")", '"', "~3", "NEAR/2", "title:", "lang:", "@CAC", "*", " "]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(WORDS, QUERY_PIECES, st.text(max_size=4)), max_size=12))
def test_random_queries_parse_or_fail_cleanly(pieces: list[str]) -> None:
    query = " ".join(pieces)
    try:
        node = parse_query(query, concepts=CONCEPTS)
    except QueryError as exc:
        assert exc.line >= 1 and exc.column >= 1
        return
    Matcher([Profile(name="p", version="v", query=node)]).match(Doc("firewall", query))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.text(max_size=60))
def test_random_texts_never_crash_and_snippets_quote_the_text(text: str, title: str) -> None:
    matcher = Matcher([profile('firewall OR 防火长城 OR "great wall"~2 OR censor* OR /a+b/')])
    for found in matcher.match(Doc(title, text)):
        for snippet in found.snippets:
            assert MARK in snippet
    folded, origin = fold(text)
    assert len(origin) == len(folded)
    assert all(0 <= i < len(text) for i in origin)
    assert fold_term(folded) == folded  # folding is idempotent
