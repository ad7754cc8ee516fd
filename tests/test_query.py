"""The query language: every operator parses into the expected tree, every error is located."""

from __future__ import annotations

import pytest

from monitor.profiles.nodes import Meta, Node, Not, Proximity, Regex, Term
from monitor.profiles.query import MAX_DEPTH, MAX_DISTANCE, MAX_PARTS, parse_query
from monitor.profiles.querysyntax import QueryError

CONCEPTS = {"CAC": ("Cyberspace Administration of China", "网信办")}


def shape(node: Node) -> object:
    """A compact, source-free rendering of a tree for comparisons."""
    if isinstance(node, Term):
        return ("term", node.text, node.field, node.prefix)
    if isinstance(node, Regex):
        return ("regex", node.pattern, node.field)
    if isinstance(node, Meta):
        return (node.field, node.value)
    if isinstance(node, Not):
        return ("not", shape(node.part))
    if isinstance(node, Proximity):
        return ("near", node.distance, *[shape(p) for p in node.parts])
    return (type(node).__name__.lower(), *[shape(p) for p in node.parts])


def t(text: str, field: str | None = None, prefix: bool = False) -> object:
    return ("term", text, field, prefix)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("firewall", t("firewall")),
        ('"great firewall"', t("great firewall")),
        ("防火长城", t("防火长城")),
        ("great firewall", ("and", t("great"), t("firewall"))),  # the default operator is AND
        ("a AND b AND c", ("and", t("a"), t("b"), t("c"))),
        ("a OR b OR c", ("or", t("a"), t("b"), t("c"))),
        ("a OR b c", ("or", t("a"), ("and", t("b"), t("c")))),  # AND binds tighter than OR
        ("(a OR b) c", ("and", ("or", t("a"), t("b")), t("c"))),
        ("a NOT b", ("and", t("a"), ("not", t("b")))),
        ("a -b", ("and", t("a"), ("not", t("b")))),
        ('a -"b c"', ("and", t("a"), ("not", t("b c")))),
        ("a -(b OR c)", ("and", t("a"), ("not", ("or", t("b"), t("c"))))),
        ("e-commerce", t("e-commerce")),
        ("censor*", t("censor", prefix=True)),
        (
            '"cyberspace administration draft"~10',
            ("near", 10, t("cyberspace"), t("administration"), t("draft")),
        ),
        ("CAC NEAR/5 draft", ("near", 5, t("CAC"), t("draft"))),
        ("a NEAR/3 b NEAR/3 c", ("near", 6, t("a"), t("b"), t("c"))),  # 3 words per gap
        (
            '"great firewall" NEAR/4 (block* OR 屏蔽)',
            ("near", 4, t("great firewall"), ("or", t("block", prefix=True), t("屏蔽"))),
        ),
        ("title:firewall", t("firewall", "title")),
        ("text:(a OR b)", ("or", t("a", "text"), t("b", "text"))),
        ('title:"great firewall"', t("great firewall", "title")),
        ("lang:zh", ("lang", "zh")),
        ('source:"China Digital Times"', ("source", "China Digital Times")),
        ("url:gov.cn", ("url", "gov.cn")),
        ("@CAC", ("or", t("Cyberspace Administration of China"), t("网信办"))),
        (
            "title:@CAC",
            ("or", t("Cyberspace Administration of China", "title"), t("网信办", "title")),
        ),
        (
            "@CAC NEAR/10 草案",
            ("near", 10, ("or", t("Cyberspace Administration of China"), t("网信办")), t("草案")),
        ),
        ("/gfw-?\\d+/", ("regex", "gfw-?\\d+", None)),
        ('"quote \\" inside"', t('quote " inside')),
        ("ANDROID OR NOTES", ("or", t("ANDROID"), t("NOTES"))),  # keywords only as whole words
        ("and or not", ("and", t("and"), t("or"), t("not"))),  # lower case is not an operator
    ],
)
def test_queries_parse_into_trees(query: str, expected: object) -> None:
    assert shape(parse_query(query, concepts=CONCEPTS, allow_regex=True)) == expected


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("", "the query is empty", 1),
        ("a AND", "ends too early: expected a term", 6),
        ("(a OR b", "ends too early: expected ')'", 8),
        ("a OR OR b", "unexpected 'OR': expected a term", 6),
        (") a", "unexpected ')'", 1),
        ('"unclosed', "unclosed quote", 1),
        ("foo:bar", "unknown field", 4),
        ("a*b", "wildcard is only allowed at the end", 1),
        ('""', "empty phrase", 1),
        ('"\u200b"', "empty phrase", 1),
        ("\u00ad", "only invisible characters", 1),
        ('"single"~3', "two or more words", 9),
        ("@NOPE", "unknown concept @NOPE (known: @CAC)", 1),
        ("/x(/", "invalid regular expression", 1),
        ("/abc", "unclosed regular expression", 1),
        ("lang:zh*", "lang: takes one term", 1),
        ("a NEAR/3 (b AND c)", "NEAR/n joins terms", 3),
        ("NOT a", "not only exclusions", 1),
        ("-a -b", "not only exclusions", 1),
        ("a - b", "unexpected character '-'", 3),
    ],
)
def test_errors_say_what_and_where(query: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query, concepts=CONCEPTS, allow_regex=True)
    assert message in caught.value.message
    assert caught.value.column == column
    assert caught.value.caret().endswith(" " * (column - 1) + "^")


_CHAIN = " NEAR/5 ".join(["w"] * 3000)


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("NOT " * 10_000 + "a", "nests too deeply", 4 * MAX_DEPTH + 1),  # the first NOT too many
        ("(" * 10_000 + "a" + ")" * 10_000, "nests too deeply", MAX_DEPTH + 1),
        ("a " + "-(" * 5_000 + "b" + ")" * 5_000, "nests too deeply", 3 + MAX_DEPTH),
        ("a NEAR/" + "9" * 5_000 + " b", "at most 1000 words, not a 5000-digit number", 3),
        ('"a b"~' + "9" * 5_000, "~n: the distance is at most 1000 words", 6),
        (f"a NEAR/{MAX_DISTANCE + 1} b", "NEAR/n: the distance is at most 1000 words", 3),
        (_CHAIN, "at most 16 parts (this one has 3000)", len("w NEAR/5 ") * (MAX_PARTS - 1) + 3),
        ('"' + "w " * (MAX_PARTS + 1) + '"~3', "at most 16 words (this one has 17)", 1),
    ],
)
def test_bounds_are_errors_where_they_are_passed(query: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == (1, column)
    shown, caret = caught.value.caret().splitlines()
    assert len(shown) < 120  # a long query is shown around the place, not whole
    assert shown[caret.index("^")] == query[column - 1]


def test_queries_at_the_bounds_parse() -> None:
    deep = "x (" * (MAX_DEPTH - 1) + "NOT y" + ")" * (MAX_DEPTH - 1)  # 31 groups and a NOT
    assert parse_query(deep).source.startswith("x AND (x AND (x AND")
    chain = parse_query(f" NEAR/{MAX_DISTANCE} ".join(["w"] * MAX_PARTS))
    assert isinstance(chain, Proximity)
    assert (len(chain.parts), chain.distance) == (MAX_PARTS, MAX_DISTANCE * (MAX_PARTS - 1))
    assert shape(parse_query("a NEAR/0005 b")) == shape(parse_query("a NEAR/5 b"))


def test_regex_is_opt_in() -> None:
    with pytest.raises(QueryError, match="regular expressions are off"):
        parse_query("/gfw/")


def test_errors_on_later_lines_of_a_multiline_query() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("a OR\n(b AND\n", concepts=CONCEPTS)
    assert (caught.value.line, caught.value.column) == (2, 7)


def test_a_group_starting_with_a_concept_keeps_its_parentheses() -> None:
    node = parse_query("(@CAC OR b) AND c", concepts=CONCEPTS)
    assert node.source == "(@CAC OR b) AND c"
    assert shape(node) == (
        "and",
        ("or", ("or", t("Cyberspace Administration of China"), t("网信办")), t("b")),
        t("c"),
    )


def test_sources_render_the_query_back() -> None:
    node = parse_query("a OR b c -d")
    assert node.source == "a OR (b AND c AND NOT d)"
