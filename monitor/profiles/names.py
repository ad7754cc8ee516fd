"""Organisations and people a document names, for deriving a profile from it (derive.py).

There is no named-entity model that installs from PyPI and runs offline (spaCy's and
transformers' models are separate downloads), so names are found by their shape:

- English and other languages written with capitals: runs of capitalised words (joined by
  "of", "for", "the" …; "and" ends a run: "Alibaba Group and Tencent"). A run with an
  organisational head word (Administration, Ministry, Commission, Conference, Council, Office,
  Group, Holdings …) is an organisation, as is an acronym of three to six capitals. A run after
  a title (President, Vice Premier, Chairman, Mr., researcher …) or before ", managing
  director" is a person; a surname the text uses alone after Mr. or Ms. counts for the full
  name it gave before.
- Chinese: jieba's part-of-speech tags. Words tagged nt (organisation) and runs of nouns ending
  in a head (办公室, 委员会, 集团, 公司, 组织 …) are organisations; a word tagged nr (person) is
  a person when a title (主席, 总理, 主任 …) or a verb of saying (表示, 指出 …) stands beside it.

What this misses: organisations named by one word (Xinhua, Tencent, Bloomberg), names without
a title or a head, and most Russian institutions (their later words are lower case:
Государственная канцелярия по делам интернет-информации). jieba tags some common words nr and
some companies nrt (阿里巴巴). The lists are suggestions to read, not facts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import regex

from monitor.profiles import segment
from monitor.profiles.keyphrases import is_chinese

ORG_HEADS = frozenset((
    "Administration", "Agency", "Alliance", "Assembly", "Association", "Authority", "Bank",
    "Board", "Bureau", "Center", "Centre", "Chamber", "Coalition", "College", "Commission",
    "Committee", "Company", "Conference", "Congress", "Council", "Court", "Department",
    "Federation", "Forum", "Foundation", "Group", "Holdings", "Inc", "Institute", "Institution",
    "International", "League", "Ltd", "Ministry", "Network", "Office", "Organisation",
    "Organization", "Parliament", "Party", "Press", "Service", "Summit", "Tribunal", "Union",
    "University", "Агентство", "Администрация", "Канцелярия", "Комиссия", "Комитет",
    "Конференция", "Министерство", "Организация", "Партия", "Служба", "Совет", "Управление",
    "Форум"
))  # fmt: skip
TITLES = frozenset((
    "Ambassador", "Chairman", "Chairwoman", "Chancellor", "Chief", "Commissioner", "Director",
    "Dr", "Governor", "Judge", "King", "Mayor", "Minister", "Mr", "Mrs", "Ms", "Pope",
    "Premier", "President", "Prime", "Prince", "Prof", "Professor", "Queen", "Secretary",
    "Senator", "Spokesman", "Spokeswoman", "Vice", "Глава", "Господин", "Госпожа", "Министр",
    "Председатель", "Президент", "Премьер"
))  # fmt: skip
ROLES = frozenset((
    "activist", "analyst", "chairman", "chief", "director", "editor", "executive", "founder",
    "head", "lawyer", "minister", "official", "president", "professor", "researcher",
    "spokesman", "spokesperson", "spokeswoman"
))  # fmt: skip
# words that join the capitalised words of one name ("and" does not: "Alibaba Group and Tencent")
_CONNECTORS = frozenset({"of", "for", "the", "on", "de", "du", "des", "la", "&", "по"})
_STARTERS = frozenset({"The", "A", "An", "In", "On", "At", "But", "And", "As", "For", "If"})
# a word, its trailing punctuation (a run ends at punctuation) and whether it is possessive
_WORD = regex.compile(r"([\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N}&'’\-]*)(\.?)([^\s\p{L}\p{N}]*)")
_ACRONYM = regex.compile(r"^\p{Lu}{3,6}s?$")
NOT_ORGANISATIONS = frozenset({"VPN", "VPNS", "CEO", "GDP", "USD", "GMT", "UTC", "PDF", "URL"})

ZH_HEADS = (
    "办公室", "委员会", "大会", "集团", "公司", "组织", "协会", "政府", "部", "局", "署", "院",
    "中心", "研究所", "大学", "银行", "法院", "论坛", "联盟", "基金会", "通讯社", "日报", "报社",
    "电视台", "理事会", "议会",
)  # fmt: skip
ZH_TITLES = (  # also 副主任, 副总理 …: a title ends the word before a name
    "主席", "总理", "主任", "部长", "总统", "局长", "书记", "发言人", "先生", "女士", "教授",
    "研究员", "董事长", "总裁", "大使", "市长", "省长", "委员", "院长", "社长", "记者",
)  # fmt: skip
ZH_SAYING = frozenset((
    "介绍", "出席", "告诉", "强调", "指出", "称", "致", "表示", "认为", "说", "透露"
))  # fmt: skip
_ZH_NOUNISH = frozenset({"n", "nz", "ns", "nt", "l", "nrt", "vn", "j"})


@dataclass(frozen=True, slots=True)
class Name:
    """An organisation or a person, as the document writes it, and how often it does."""

    text: str
    count: int


def names(title: str, text: str, language: str | None) -> tuple[list[Name], list[Name]]:
    """The organisations and the people a document names, most often named first."""
    body = f"{title}\n{text}"
    orgs, people = _chinese(body) if is_chinese(body, language) else _capitalised(body)
    return _ranked(orgs), _ranked(people)


def _ranked(counts: Counter[str]) -> list[Name]:
    return [Name(t, n) for t, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]


def _capitalised(text: str) -> tuple[Counter[str], Counter[str]]:
    orgs: Counter[str] = Counter()
    people: Counter[str] = Counter()
    words = list(_WORD.finditer(text))
    run: list[str] = []
    before = ""  # the word before the run: a title or a role makes the run a person

    def close(after: int) -> None:
        _close(run, before, words, after, orgs, people)
        run.clear()

    for i, match in enumerate(words):
        word, dot, punct = match.group(1), match.group(2), match.group(3)
        possessive = word.endswith(("'s", "’s"))
        word = word[:-2] if possessive else word
        if word in TITLES:  # Vice Premier Ma Kai: the run starts after the titles
            close(i)
            before = word
        elif word[:1].isupper() and (run or word not in _STARTERS):
            run.append(word)
            if possessive or punct or (dot and not _ACRONYM.match(word)):
                close(i + 1)  # China's | State Internet Information Office
                before = word
        elif run and word in _CONNECTORS and not (dot or punct):
            run.append(word)
        else:
            close(i)
            before = word
    close(len(words))
    for name in [n for n in people if " " not in n]:  # "Mr. Lu" after "Lu Wei"
        full = next((f for f in people if name in f.split() and f != name), None)
        if full is not None:
            people[full] += people.pop(name)
    return orgs, people


def _close(
    run: list[str],
    before: str,
    words: list[regex.Match[str]],
    after: int,
    orgs: Counter[str],
    people: Counter[str],
) -> None:
    """File a finished run of capitalised words as an organisation, a person or nothing."""
    while run and run[-1] in _CONNECTORS:
        run.pop()
    if not run:
        return
    name = " ".join(run)
    acronym = len(run) == 1 and _ACRONYM.match(name) and name.upper() not in NOT_ORGANISATIONS
    if acronym or (len(run) > 1 and any(word in ORG_HEADS for word in run)):
        orgs[name] += 1
    elif len(run) <= 3 and (before in TITLES or before in ROLES or _role_follows(words, after)):
        people[name] += 1


def _role_follows(words: list[regex.Match[str]], after: int) -> bool:
    """ "Cyrus Mewawalla, managing director of …": a role within three words after a comma."""
    if after == 0 or after > len(words) or "," not in words[after - 1].group(3):
        return False
    return any(m.group(1) in ROLES for m in words[after : after + 3])


def _chinese(text: str) -> tuple[Counter[str], Counter[str]]:
    orgs: Counter[str] = Counter()
    people: Counter[str] = Counter()
    tokens = [t for t in segment.tokens(text) if t.word.strip()]
    start = 0  # where the current run of nouns began
    for i, token in enumerate(tokens):
        if token.tag.startswith("nr") and 2 <= len(token.word) <= 4:
            previous = tokens[i - 1].word if i else ""
            following = tokens[i + 1].word if i + 1 < len(tokens) else ""
            if previous.endswith(ZH_TITLES) or following in ZH_SAYING or following in ZH_TITLES:
                people[token.word] += 1
        if token.tag == "nt" and len(token.word) >= 2:
            orgs[token.word] += 1
        elif token.word.endswith(ZH_HEADS) and i > start:  # 国家/互联网/信息/办公室
            orgs["".join(t.word for t in tokens[start : i + 1])] += 1
            start = i + 1
        elif token.tag not in _ZH_NOUNISH:
            start = i + 1
    return orgs, people
