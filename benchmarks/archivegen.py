"""The synthetic archive of benchmarks.archive: distinct articles in four languages made of
sentences from real texts, spread over two years and some twenty feeds, with the hits the real
matcher finds in them.

Sentences come from ../shared/corpus when it is there (English article bodies of the
extraction benchmark and the Chinese readability pages: general news; the relevance texts: the
beat) and always from a small set written here, in English, Chinese and Russian (Traditional
Chinese is the Simplified material converted by OpenCC). Each sentence is sorted once with the
matcher over the shipped profiles: `topical` when a profile matches the sentence alone; else
`neutral` when it comes from general news or the set written here, `beat` when it comes from
the relevance texts (no match alone, but the beat's words at a density general news never
has). An article is 4-10 paragraphs of 2-5 neutral sentences (3-6 in Chinese) drawn at
random; about one in ten (`TOPICAL_SHARE`) also gets one to three topical sentences and up to
three beat sentences of its language. The hits stored are whatever `Matcher.match` says of the
whole article (a mix of neutral sentences can match too, and a topical one can be cancelled by
a NOT), so they are what the service would have stored.

Everything is a function of (seed, article number, number of articles, anchor time): chunk
after chunk can be made in any process, in any order, and comes out the same.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import lxml.html

from benchmarks.common import CORPUS, REPO
from monitor.profiles.candidates import index_text
from monitor.profiles.files import load_profiles
from monitor.profiles.matcher import Matcher, folded_fields
from monitor.profiles.normalize import is_cjk
from monitor.profiles.profile import Doc

VERSION = 2  # of the generator: a kept archive built by another version is rebuilt
SPAN = timedelta(days=730)  # publication dates: the two years before the anchor
TOPICAL_SHARE = 0.1  # articles given topical sentences
UNDATED_SHARE = 0.03  # articles without a publication date (counted from fetched_at)
LANGUAGES = {"en": 0.55, "zh": 0.25, "zh-Hant": 0.08, "ru": 0.12}
SHIPPED = REPO / "config"

# (name, site, language): the feeds of the archive
FEEDS = (
    ("Harbour Tribune", "harbour-tribune.example", "en"),
    ("Morning Ledger", "morning-ledger.example", "en"),
    ("Pacific Wire", "pacific-wire.example", "en"),
    ("Tech Policy Daily", "techpolicy-daily.example", "en"),
    ("Asia Desk", "asia-desk.example", "en"),
    ("Global Courier", "global-courier.example", "en"),
    ("The Network Review", "network-review.example", "en"),
    ("Capital Observer", "capital-observer.example", "en"),
    ("Continental Post", "continental-post.example", "en"),
    ("Evening Standard Bearer", "standard-bearer.example", "en"),
    ("华东日报", "huadong-daily.example", "zh"),
    ("科技观察", "keji-guancha.example", "zh"),
    ("新京时讯", "xinjing-shixun.example", "zh"),
    ("南方网评", "nanfang-wangping.example", "zh"),
    ("数字中国周刊", "digital-china-weekly.example", "zh"),
    ("港台新聞網", "gangtai-news.example", "zh-Hant"),
    ("臺北科技報", "taipei-tech.example", "zh-Hant"),
    ("Восточный вестник", "vostok-vestnik.example", "ru"),
    ("Цифровая повестка", "digital-agenda.example", "ru"),
    ("Азия сегодня", "asia-today.example", "ru"),
)

# Written for this benchmark: what an archive holds besides the beat, and the beat itself.
NEUTRAL_EN = (
    "The city council approved a new budget for road repairs after a long evening session.",
    "Heavy rain is expected across the northern valleys for the rest of the week.",
    "Shares in the regional airline rose after it reported more passengers than a year ago.",
    "The museum will reopen its east wing in spring with a show of early photographs.",
    "Farmers say the late frost damaged about a third of the apple blossom.",
    "A local bakery has won the national bread competition for the second year running.",
    "The central bank kept its main interest rate unchanged, as most economists expected.",
    "Engineers are inspecting the old bridge after cracks were found in two of its piers.",
    "The football club confirmed that its captain will miss the next three matches.",
    "Ticket sales for the summer festival opened on Monday and sold out within hours.",
    "The university plans to build a new library on the site of the former car park.",
    "Hospital waiting times fell slightly in the last quarter, according to new figures.",
    "A ferry service between the two islands will run twice a day from next month.",
    "The orchestra announced a season of concerts devoted to composers from the north.",
    "Retail sales were flat in October as shoppers held back before the holiday season.",
    "Firefighters brought a warehouse blaze under control early on Sunday morning.",
    "The new tram line carried more than forty thousand people in its first week.",
    "Researchers found that the lake's water level has dropped by half a metre since May.",
    "Parents have asked the school board to reconsider the later start of the school day.",
    "The mayor said the harbour redevelopment would create hundreds of jobs.",
    "A rare bird was spotted in the wetlands, drawing watchers from across the country.",
    "The trade fair brought together more than two thousand exhibitors this year.",
    "Fuel prices edged down for a third week in a row, the motoring association said.",
    "The court adjourned the hearing until the defence could review the new evidence.",
    "Volunteers planted five hundred trees along the river bank over the weekend.",
)
NEUTRAL_ZH = (
    "市政府宣布将在明年春季启动老城区道路改造工程。",
    "气象部门预计本周后半段北方大部地区将出现明显降温。",
    "这家地方航空公司第三季度客运量比去年同期增长了百分之十二。",
    "博物馆东侧展厅修缮完毕后将于五一假期重新对外开放。",
    "果农表示今年春天的晚霜使苹果花受损约三成。",
    "一家老字号面包店连续第二年获得全国烘焙大赛金奖。",
    "央行维持主要政策利率不变，符合大多数经济学家的预期。",
    "工程人员正在对这座老桥进行检测，此前两处桥墩发现裂缝。",
    "足球俱乐部证实队长因伤将缺席接下来的三场比赛。",
    "夏季音乐节门票周一开售，几个小时内便全部售罄。",
    "大学计划在原停车场的位置新建一座图书馆。",
    "最新数据显示，上个季度医院平均候诊时间略有缩短。",
    "两座海岛之间的轮渡航线下月起每天往返两班。",
    "交响乐团公布了新乐季的演出计划，以北欧作曲家的作品为主。",
    "十月份社会消费品零售总额基本持平，消费者在节前保持观望。",
    "消防员周日凌晨扑灭了一起仓库火灾，未造成人员伤亡。",
    "新开通的有轨电车线路首周客流量超过四万人次。",
    "研究人员发现，自五月以来湖泊水位已下降了半米。",
    "家长们请求教育局重新考虑推迟上学时间的决定。",
    "市长表示，港口改造项目将创造数百个就业岗位。",
    "一种罕见的候鸟出现在湿地公园，吸引了各地的观鸟爱好者。",
    "今年的贸易博览会吸引了两千多家企业参展。",
    "汽油价格连续第三周小幅下调。",
    "法院决定休庭，以便辩方审阅新提交的证据。",
    "志愿者周末在河岸边种下了五百棵树苗。",
)
NEUTRAL_RU = (
    "Городской совет утвердил новый бюджет на ремонт дорог после долгого вечернего заседания.",
    "Синоптики обещают сильные дожди в северных районах до конца недели.",
    "Акции региональной авиакомпании выросли после сообщения о росте пассажиропотока.",
    "Музей откроет восточное крыло весной выставкой ранних фотографий.",
    "Фермеры говорят, что поздние заморозки повредили около трети яблоневого цвета.",
    "Местная пекарня второй год подряд победила на национальном конкурсе хлеба.",
    "Центральный банк сохранил ключевую ставку без изменений, как и ожидали экономисты.",
    "Инженеры осматривают старый мост после того, как в двух опорах нашли трещины.",
    "Футбольный клуб подтвердил, что капитан пропустит три следующих матча.",
    "Билеты на летний фестиваль поступили в продажу в понедельник и разошлись за несколько часов.",
    "Университет планирует построить новую библиотеку на месте бывшей парковки.",
    "Время ожидания в больницах в прошлом квартале немного сократилось.",
    "Паром между двумя островами будет ходить дважды в день со следующего месяца.",
    "Оркестр объявил сезон концертов, посвящённый северным композиторам.",
    "Розничные продажи в октябре не изменились: покупатели выжидали перед праздниками.",
    "Пожарные в воскресенье утром потушили пожар на складе.",
    "Новая трамвайная линия за первую неделю перевезла более сорока тысяч человек.",
    "Исследователи выяснили, что уровень воды в озере с мая упал на полметра.",
    "Родители попросили школьный совет пересмотреть более позднее начало уроков.",
    "Мэр заявил, что реконструкция порта создаст сотни рабочих мест.",
    "В заболоченной пойме заметили редкую птицу, и туда потянулись наблюдатели.",
    "Торговая ярмарка в этом году собрала более двух тысяч участников.",
    "Цены на топливо третью неделю подряд немного снижаются.",
    "Суд отложил слушание, чтобы защита могла изучить новые доказательства.",
    "Волонтёры за выходные посадили пятьсот деревьев вдоль берега реки.",
    "На центральной площади открылась ярмарка народных промыслов.",
    "Областная библиотека продлила часы работы читального зала до десяти вечера.",
    "Из-за ремонта теплотрассы на трёх улицах временно отключат горячую воду.",
    "Сборная по волейболу вышла в полуфинал после упорной игры из пяти партий.",
    "Урожай зерновых в регионе оказался на десять процентов выше прошлогоднего.",
    "В пригородных электричках с понедельника меняется расписание.",
    "Театр драмы представит премьеру по пьесе современного драматурга.",
    "Скорая помощь получила двенадцать новых машин для сельских районов.",
    "Студенты технического университета собрали спутник для учебного запуска.",
    "Аэропорт сообщил о задержке нескольких рейсов из-за густого тумана.",
    "Городские власти пообещали отремонтировать набережную к началу лета.",
    "В заповеднике насчитали больше лосей, чем год назад.",
    "Владельцы кафе жалуются на рост цен на молоко и сливочное масло.",
    "Детская школа искусств набирает учеников в класс фортепиано.",
    "На трассе у перевала ввели ограничение скорости из-за гололёда.",
    "Местный краеведческий музей получил в дар коллекцию старинных монет.",
    "Строительство нового моста через реку планируют завершить через два года.",
    "В выходные в парке пройдёт забег на пять и десять километров.",
    "Управляющая компания обещает заменить лифты в старых домах до конца года.",
    "Шахматный турнир среди школьников собрал больше ста участников.",
)
TOPICAL_EN = (
    "Delegates gathered in Wuzhen for the World Internet Conference, China's yearly showcase.",
    "The Great Firewall now blocks several more foreign news sites, researchers said.",
    "Apple removed dozens of VPN apps from its China store after a crackdown by regulators.",
    "Beijing again called for cyber sovereignty, the right of each state to govern its internet.",
    "The Cyberspace Administration of China published draft rules on recommendation algorithms.",
    "Foreign firms are studying China's Cybersecurity Law and its rules on data localisation.",
    "Lawyers expect the Personal Information Protection Law to change how apps collect data.",
    "Zhuang Rongwen, head of the country's internet regulator, spoke at the opening session.",
)
TOPICAL_ZH = (
    "第十届世界互联网大会在浙江乌镇开幕，数千名代表参会。",
    "许多用户反映，近期翻墙软件的连接越来越不稳定。",
    "国家网信办发布了关于生成式人工智能服务管理的新规定。",
    "专家认为，网络主权原则是全球互联网治理的重要基础。",
    "《网络安全法》实施以来，关键信息基础设施的保护不断加强。",
    "《个人信息保护法》对数据出境提出了更严格的要求。",
    "防火长城屏蔽了更多境外网站，访问受限的情况有所增加。",
    "构建网络空间命运共同体的倡议在会上再次被提及。",
)
TOPICAL_RU = (
    "В Учжэне открылась Всемирная интернет-конференция, собравшая тысячи участников.",
    "Великий китайский файрвол заблокировал ещё несколько иностранных сайтов.",
    "Китай снова заявил о киберсуверенитете и праве государства управлять своим интернетом.",
    "Власти Китая усилили блокировку VPN-сервисов перед важной политической датой.",
    "Чжуан Жунвэнь возглавил Государственную канцелярию по делам интернета КНР.",
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“«(A-ZА-ЯЁ0-9])")
_CJK_SENTENCE_END = re.compile(r"(?<=[。！？])")


@dataclass(frozen=True, slots=True)
class Material:
    """Sentences per language: `topical` match a profile alone; `neutral` (general news) and
    `beat` (the relevance texts) match none."""

    neutral: dict[str, list[str]]
    beat: dict[str, list[str]]
    topical: dict[str, list[str]]
    source: str

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            language: {
                "neutral": len(self.neutral[language]),
                "beat": len(self.beat[language]),
                "topical": len(self.topical[language]),
            }
            for language in LANGUAGES
        }


@dataclass(slots=True)
class Chunk:
    """The rows of articles `first`..`first + count - 1` (ids from 1), ready to insert."""

    articles: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    hits: list[dict[str, Any]] = field(default_factory=list)
    index: list[tuple[int, str]] = field(default_factory=list)
    characters: int = 0  # of the articles' text


def matcher() -> Matcher:
    """The shipped profiles compiled: what the service would match with."""
    return Matcher(load_profiles(SHIPPED))


def load_material(corpus: Path | None = CORPUS) -> Material:
    """Every sentence available, sorted into neutral, beat and topical per language."""
    general: dict[str, list[str]] = {
        "en": [*NEUTRAL_EN, *TOPICAL_EN],
        "zh": [*NEUTRAL_ZH, *TOPICAL_ZH],
        "ru": [*NEUTRAL_RU, *TOPICAL_RU],
    }
    beat: dict[str, list[str]] = {language: [] for language in general}
    source = "built-in sentences only (no ../shared/corpus)"
    if corpus is not None and corpus.is_dir():
        for language, text, on_beat in _corpus_texts(corpus):
            (beat if on_beat else general)[language] += _sentences(text, language)
        source = f"{corpus} and built-in sentences"
    every = matcher()
    material = Material({}, {}, {}, source)
    for language, sentences in general.items():
        kept: dict[str, bool] = {}  # sentence → from the beat
        for sentence in sentences:
            kept.setdefault(sentence, False)
        for sentence in beat[language]:
            kept.setdefault(sentence, True)
        matching = {s for s in kept if _matches(every, s, language)}
        material.topical[language] = [s for s in kept if s in matching]
        material.neutral[language] = [s for s, b in kept.items() if not b and s not in matching]
        material.beat[language] = [s for s, b in kept.items() if b and s not in matching]
    for pool in (material.neutral, material.beat, material.topical):
        pool["zh-Hant"] = [_traditional(s) for s in pool["zh"]]
    return material


def _matches(every: Matcher, sentence: str, language: str) -> bool:
    return bool(every.match(Doc("", sentence, language=language)))


@lru_cache(maxsize=1)
def _s2t() -> Any:
    import opencc  # noqa: PLC0415  (loads its dictionaries)

    return opencc.OpenCC("s2t")


def _traditional(text: str) -> str:
    return str(_s2t().convert(text))


def _corpus_texts(corpus: Path) -> list[tuple[str, str, bool]]:
    """(language, text, on the beat) of the corpus: article bodies and Chinese pages (general
    news), relevance texts (the beat)."""
    texts: list[tuple[str, str, bool]] = []
    truth = corpus / "extraction-benchmark" / "ground-truth.json"
    if truth.is_file():
        bodies = json.loads(truth.read_text("utf-8"))
        texts += [
            ("en", b["articleBody"], False) for _, b in sorted(bodies.items()) if b["articleBody"]
        ]
    for page in sorted((corpus / "readability-pages").glob("*/expected.html")):
        text = "\n".join(map(str, lxml.html.fromstring(page.read_text("utf-8")).itertext()))
        if sum(map(is_cjk, text)) > 0.2 * len(text):
            texts.append(("zh", text, False))
    for path in sorted((corpus / "relevance").glob("*.txt")):
        body = path.read_text("utf-8").split("\n---\n", 1)[-1]
        language = _language(body)
        if language is not None:
            texts.append((language, body, True))
    return texts


def _language(text: str) -> str | None:
    """en, zh or ru by the script most of the letters are in; None for other languages."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    cjk = sum(map(is_cjk, letters)) / len(letters)
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in letters) / len(letters)
    if cjk > 0.3:
        return "zh"
    if cyrillic > 0.5:
        return "ru"
    ascii_letters = sum(ch.isascii() for ch in letters) / len(letters)
    # English, not the Italian, German or French texts of the relevance corpus
    common = len(re.findall(r"\b(?:the|and|of|to|in|is)\b", text, re.IGNORECASE))
    return "en" if ascii_letters > 0.95 and common > len(text) / 200 else None


def _sentences(text: str, language: str) -> list[str]:
    """The sentences of a text that read as sentences (no menus, captions or fragments)."""
    out: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if language == "zh":
            parts = [p.strip() for p in _CJK_SENTENCE_END.split(line)]
            out += [p for p in parts if 12 <= len(p) <= 200 and p[-1] in "。！？"]
        else:
            parts = [p.strip() for p in _SENTENCE_END.split(line)]
            out += [p for p in parts if 40 <= len(p) <= 400 and p[-1] in '.!?"”»']
    return out


@dataclass(frozen=True, slots=True)
class Plan:
    """What to make: `articles` articles ending at `anchor`, from `seed`."""

    articles: int
    anchor: datetime
    seed: int = 1
    feed_ids: tuple[int, ...] = tuple(range(1, len(FEEDS) + 1))  # the database's, in FEEDS order


class Generator:
    """Makes chunks of the archive (one per process: holds the material and the matcher)."""

    def __init__(self, material: Material, plan: Plan) -> None:
        self.material = material
        self.plan = plan
        self.matcher = matcher()
        self._languages = list(LANGUAGES)
        self._weights = [LANGUAGES[language] for language in self._languages]
        self._feeds = {
            language: [i for i, feed in enumerate(FEEDS) if feed[2] == language]
            for language in LANGUAGES
        }

    def chunk(self, first: int, count: int) -> Chunk:
        """Articles with ids first..first+count-1, their entries, hits and index rows."""
        rng = random.Random(self.plan.seed * 1_000_003 + first)
        out = Chunk()
        start = self.plan.anchor - SPAN
        step = SPAN / self.plan.articles
        for article_id in range(first, first + count):
            language = rng.choices(self._languages, self._weights)[0]
            feed = rng.choice(self._feeds[language])
            feed_id = self.plan.feed_ids[feed]
            name, site, _ = FEEDS[feed]
            published = start + step * (article_id - 1 + rng.random())
            fetched = published + timedelta(seconds=rng.uniform(60, 3 * 3600))
            title, text = self._article(rng, language)
            url = f"https://{site}/{published:%Y/%m/%d}/{article_id}"
            dated = rng.random() >= UNDATED_SHARE
            out.articles.append(
                {
                    "id": article_id,
                    "url": url,
                    "link": url,
                    "feed_id": feed_id,
                    "title": title,
                    "text": text,
                    "language": language,
                    "author": None,
                    "sitename": site,
                    "published_at": published if dated else None,
                    "source": "page",
                    "note": None,
                    "fetched_at": fetched,
                    "story_id": article_id,
                    "signature": None,
                }
            )
            out.entries.append(
                {
                    "feed_id": feed_id,
                    "guid": url,
                    "link": url,
                    "title": title,
                    "published_at": published if dated else None,
                    "article_id": article_id,
                    "seen_at": fetched,
                    "content_hash": None,
                }
            )
            doc = Doc(title, text, url, f"{name} | {site}", language)
            fields = folded_fields(doc)  # folded once for both, as the pipeline does
            for match in self.matcher.match(doc, fields):
                out.hits.append(
                    {
                        "article_id": article_id,
                        "profile": match.profile,
                        "profile_version": match.profile_version,
                        "matched_terms": match.matched_terms,
                        "score": match.score,
                        "snippet": match.snippet,
                        "snippets": list(match.snippets),
                        "created_at": fetched,
                    }
                )
            out.index.append(
                (article_id, index_text(fields["title"].folded, fields["text"].folded))
            )
            out.characters += len(text)
        return out

    def _article(self, rng: random.Random, language: str) -> tuple[str, str]:
        neutral = self.material.neutral[language]
        beat = self.material.beat[language]
        topical = self.material.topical[language]
        low, high = (3, 6) if language.startswith("zh") else (2, 5)  # Chinese sentences: short
        paragraphs = [
            [rng.choice(neutral) for _ in range(rng.randint(low, high))]
            for _ in range(rng.randint(4, 10))
        ]
        title = _headline(rng.choice(neutral), language)
        if topical and rng.random() < TOPICAL_SHARE:
            added = [rng.choice(topical) for _ in range(rng.choice((1, 1, 2, 3)))]
            added += [rng.choice(beat) for _ in range(rng.randint(0, 3) if beat else 0)]
            for sentence in added:
                paragraph = rng.choice(paragraphs)
                paragraph.insert(rng.randint(0, len(paragraph)), sentence)
            if rng.random() < 0.3:
                title = _headline(rng.choice(topical), language)
        glue = " " if language in ("en", "ru") else ""
        return title, "\n".join(glue.join(p) for p in paragraphs)


def _headline(sentence: str, language: str) -> str:
    """A sentence cut to a headline's length, without its full stop."""
    limit = 90 if language in ("en", "ru") else 36
    words = sentence.rstrip(".。!！?？").split(" ") if language in ("en", "ru") else [sentence]
    if language not in ("en", "ru"):
        return sentence.rstrip("。！？")[:limit]
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > limit:
            break
        out = f"{out} {word}" if out else word
    return out


def anchor_now() -> datetime:
    """The end of the archive's time span: now, to the second."""
    return datetime.now(UTC).replace(microsecond=0)
