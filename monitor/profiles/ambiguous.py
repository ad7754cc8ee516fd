"""Words that mean something else too: the list lint's `ambiguous-term` rule (lint.py) checks a
query's unconditional terms against, each with the other sense it clashes with and what to
write instead.

What is listed, and why: a word the shipped profiles or concepts leave out bare on purpose
(their comments say so), a word named in the issue, or one of their translations, that on
its own would match texts of another subject. The evidence is the labelled texts
(benchmarks/corpus/relevance, 1,294 texts): `python -m benchmarks.lint_figures` matches each
word alone and counts the texts holding it, the share of them relevant to the profile whose
subject the word names (its precision, bare), and the hard negatives among them (texts chosen
because they share the word, not the subject). A word is listed when bare it falls below the
precision the profiles are held to (0.9) and at least one hard negative holds it:

    word                texts  prec.  neg.    word              texts  prec.  neg.
    firewall               84   0.63    29    防火墙               56   0.55    22
    censor*                69   0.87     3    墙                  107   0.56    32
    sovereignty            87   0.53    19    审查                105   0.58     7
    digital sovereignty     9   0.00     9    主权                123   0.55    27
    regulator              39   0.79     2    数字主权              4   0.00     4
    CAC                    83   0.57    28    监管                 71   0.31    11
    WIC                    47   0.60    17    网信                168   0.75     2
    Wuzhen                 79   0.76    13    乌镇                135   0.80    25
    Great Wall             10   0.40     6    长城                 39   0.54    17
    cybersecurity          83   0.66     8    网络安全            149   0.59    11
    cybersecurity law      40   0.85     2    网络安全法           69   0.77     5
    VPN                   110   0.80    21    翻墙                 45   0.84     4
    data localisation       4   0.50     2    цензур*              65   0.88     4
    cross-border data      15   0.87     2    суверенитет*         31   0.48     9
    файрвол*               29   0.76     4    брандмауэр*           2   0.50     1
    кибербезопасност*      47   0.83     1    Учжэн*               20   0.50     7

Measured and left off: GFW (15 texts, all relevant: Global Forest Watch never came up),
watchdog (0.90), "Lu Wei", 鲁炜, "Xu Lin", 徐麟, регулятор* (0.77–0.89 but no hard
negative: what they miss is passing mentions, not another sense), MLPS, PIPL and "critical
information infrastructure" (1.00).

A Python constant rather than a YAML file: the web editor and the CLI import it with the rule
(no file to find or read, no package data to ship), mypy checks every entry, and the
benchmark that measures the figures imports the same list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A word (or a stem ending in `*`) that alone also matches another subject."""

    term: str  # as a query writes it: a word, words of a phrase, or a stem with a trailing *
    language: str  # en, zh or ru: the language it is listed under
    subject: str  # the shipped profile whose subject the word names (what the figures measure)
    clash: str  # what else it matches
    advice: str  # what to write instead


_GFW, _SOV, _CAC = "great_firewall", "cyber_sovereignty", "china_cyber_regulator"
_WIC, _CSL = "world_internet_conference", "china_cybersecurity"

AMBIGUOUS: tuple[Ambiguous, ...] = (
    # English (and other languages written in the Latin script)
    Ambiguous(
        "firewall",
        "en",
        _GFW,
        "network-security products (next-generation firewalls) and fire walls in buildings",
        "put it in a NEAR with a China term (firewall NEAR/2 @China) or write the name: "
        '"great firewall" or @GFW',
    ),
    Ambiguous(
        "censor*",
        "en",
        _GFW,
        "censorship in other countries and of films and books",
        "put it in a NEAR with a China term and ask for an internet word too "
        "(censorship NEAR/10 @China AND @Internet)",
    ),
    Ambiguous(
        "sovereignty",
        "en",
        _SOV,
        "territorial and maritime sovereignty (the South China Sea) and Europe's digital "
        "sovereignty",
        "put it within a few words of an internet word (sovereignty NEAR/3 (internet OR "
        'cyberspace)) or write "cyber sovereignty"',
    ),
    Ambiguous(
        "digital sovereignty",
        "en",
        _SOV,
        "the EU's debate on cloud and data independence",
        "put it in a NEAR with a China term (NEAR/10 @China)",
    ),
    Ambiguous(
        "regulator",
        "en",
        _CAC,
        "other regulators (Ofcom, Roskomnadzor, financial and energy regulators)",
        "tie it to the internet and China ((@Internet OR cyber) NEAR/1 regulator NEAR/1 @China) "
        "or name the body (@CAC)",
    ),
    Ambiguous(
        "CAC",
        "en",
        _CAC,
        "the CAC 40 index in Paris and other bodies abbreviated CAC",
        'put it in a NEAR with an internet or China word and exclude "CAC 40", or name the '
        "body (@CAC)",
    ),
    Ambiguous(
        "WIC",
        "en",
        _WIC,
        "the US nutrition programme for Women, Infants and Children",
        "put it in a NEAR with Wuzhen or an internet-governance word, or use @WIC",
    ),
    Ambiguous(
        "Wuzhen",
        "en",
        _WIC,
        "the water town (travel guides, hotels, festivals)",
        'put it in a NEAR with an internet word ("internet conference" NEAR/6 Wuzhen) or use @WIC',
    ),
    Ambiguous(
        "Great Wall",
        "en",
        _GFW,
        "the Great Wall as a sight, and Great Wall Motors",
        'write "great firewall" or @GFW',
    ),
    Ambiguous(
        "cybersecurity",
        "en",
        _CSL,
        "network security in general (products, breaches) and other countries' laws",
        "put it in a NEAR with China and a policy word (cybersecurity NEAR/4 @China NEAR/4 "
        "(law OR rules))",
    ),
    Ambiguous(
        "cybersecurity law",
        "en",
        _CSL,
        "other countries' cybersecurity laws (Viet Nam's, Singapore's) and privacy policies "
        "that list the laws they follow",
        "put it in a NEAR with a China term (@CSL NEAR/8 @China)",
    ),
    Ambiguous(
        "VPN",
        "en",
        _GFW,
        "VPN products and reviews, and other countries' VPN bans",
        "put it in a NEAR with a blocking word and ask for China (VPN NEAR/8 (block* OR ban*) "
        "AND @China)",
    ),
    Ambiguous(
        "data localisation",
        "en",
        _CSL,
        "the EU's, India's and Russia's data rules",
        "put it in a NEAR with a China term (NEAR/15 (@China OR @CAC))",
    ),
    Ambiguous(
        "cross-border data",
        "en",
        _CSL,
        "the EU's, India's and other countries' data-transfer rules",
        "put it in a NEAR with a China term (NEAR/15 (@China OR @CAC))",
    ),
    # Chinese
    Ambiguous(
        "防火墙",
        "zh",
        _GFW,
        "network-security products (下一代防火墙) and fire walls in buildings",
        "write the name (防火长城, @GFW) or put it next to China (中国防火墙, 防火墙 NEAR/3 中国)",
    ),
    Ambiguous(
        "墙",
        "zh",
        _GFW,
        "any wall: 城墙, 长城, 墙壁, firewall products",
        "write 翻墙 or 被墙 and ask for an internet word (翻墙 AND @Internet)",
    ),
    Ambiguous(
        "审查",
        "zh",
        _GFW,
        "review and audit (安全审查, 网络安全审查, 审查批准) and other countries' censorship",
        "write the compound (网络审查, 言论审查, 内容审查) or put it in a NEAR with a China term",
    ),
    Ambiguous(
        "主权",
        "zh",
        _SOV,
        "territorial and maritime sovereignty (南海, 钓鱼岛)",
        "write the compound (网络主权, 网络空间主权)",
    ),
    Ambiguous(
        "数字主权",
        "zh",
        _SOV,
        "the EU's digital sovereignty",
        "put it in a NEAR with a China term (NEAR/10 @China)",
    ),
    Ambiguous(
        "监管",
        "zh",
        _CAC,
        "regulation of anything: finance, markets, food, drugs",
        "name the body (@CAC, 网信办) or put it in a NEAR with an internet word",
    ),
    Ambiguous(
        "网信",
        "zh",
        _CAC,
        "互联网信息 (internet information: 互联网信息服务 in any internet rule) and companies "
        "named 网信",
        "write the body's name (网信办, 网信部门, @CAC) or put 网信 in a NEAR",
    ),
    Ambiguous(
        "乌镇",
        "zh",
        _WIC,
        "the water town (travel pages, 乌镇戏剧节)",
        "put it in a NEAR with an internet word (乌镇 NEAR/6 (互联网 OR 峰会)) or use @WIC",
    ),
    Ambiguous(
        "长城",
        "zh",
        _GFW,
        "the Great Wall as a sight, and 长城汽车",
        "write 防火长城 or 长城防火墙 (@GFW)",
    ),
    Ambiguous(
        "网络安全",
        "zh",
        _CSL,
        "network security in general (products, attacks, training)",
        "put it in a NEAR with China and a policy word (法律, 法规, 审查 …)",
    ),
    Ambiguous(
        "网络安全法",
        "zh",
        _CSL,
        "other countries' cybersecurity laws (越南网络安全法) and privacy policies that list "
        "the laws they follow",
        "put it in a NEAR with a China term, or exclude other countries' laws "
        "(AND NOT ((越南 OR 新加坡) NEAR/12 网络安全法))",
    ),
    Ambiguous(
        "翻墙",
        "zh",
        _GFW,
        "climbing a wall (travel posts) and other countries' blocking",
        "ask for an internet word too (翻墙 AND (@Internet OR VPN))",
    ),
    # Russian
    Ambiguous(
        "цензур*",
        "ru",
        _GFW,
        "censorship in Russia and elsewhere",
        "put it in a NEAR with a China term and ask for an internet word "
        "(цензур* NEAR/10 @China AND @Internet)",
    ),
    Ambiguous(
        "суверенитет*",
        "ru",
        _SOV,
        "territorial sovereignty and Russia's sovereign internet",
        "put it next to an internet word (суверенитет* NEAR/2 (интернет* OR киберпространств*))",
    ),
    Ambiguous(
        "файрвол*",
        "ru",
        _GFW,
        "network-security products and other countries' firewall plans",
        "write the name (Велик* NEAR/1 файрвол*) or put it in a NEAR with a China term",
    ),
    Ambiguous(
        "брандмауэр*",
        "ru",
        _GFW,
        "the Windows firewall and other network-security products",
        "write the name (Велик* NEAR/1 брандмауэр*) or put it in a NEAR with a China term",
    ),
    Ambiguous(
        "кибербезопасност*",
        "ru",
        _CSL,
        "network security in general",
        "put it in a NEAR with a law word and a China term "
        "(закон* NEAR/12 кибербезопасност* NEAR/12 @China)",
    ),
    Ambiguous(
        "Учжэн*",
        "ru",
        _WIC,
        "the water town (travel pages)",
        "put it in a NEAR with a summit or internet word (Учжэн* NEAR/6 (саммит* OR форум*)) "
        "or use @WIC",
    ),
)
