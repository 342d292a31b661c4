"""A synthetic news site for the DAG scale benchmark (`bench/dag_scale.py`): N publishers × M articles of one UTC day.

Every publisher runs its own `ThreadingHTTPServer` (HTTP/1.1 keep-alive) on its own loopback address
(127.0.1.1, 127.0.1.2, … by default) and serves, from memory, pages rendered once at start:

- `/robots.txt` (allows everything, names the sitemap), `/sitemap.xml` (a plain urlset with `lastmod`, or a
  Google News sitemap with `news:publication_date`, depending on the publisher) and `/feed.xml` (RSS 2.0, the
  newest 40 stories);
- one page per article, ~20–60 KB of HTML: masthead and a mega-menu, inline CSS and a tracking script, the
  article (headline, byline, `<time>`, 6–15 paragraphs), a newsletter sign-up inside the body, an inline
  donation line as the last body paragraph, a donation appeal block, related stories with teasers, a "most
  read" list, reader comments and a long footer. Three page layouts (WordPress-like, semantic HTML5, legacy
  tables with JSON-LD) are shared out among the publishers.

All text is generated deterministically from `seed` (the same arguments give byte-identical pages). No paragraph
repeats across articles (the cleaner treats cross-article repeats as boilerplate); the appeal wording is the same
on every page of a publisher, as on real sites. `older` articles per publisher are dated the day before: they are
listed in the sitemap (the crawler must skip them on their date) but are not part of the day's expected set.

    .venv/bin/python bench/scale_site.py --sources 2 --articles 5   # serve until Ctrl-C, print the URLs
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import yaml

from demo_site.server import stop_servers

FEED_ITEMS = 40
LAYOUTS = ("wordpress", "html5", "legacy")
# politeness off for our own loopback servers (sources.yaml overrides of the spider's Scrapy settings)
NO_POLITENESS = {"download_delay": 0, "autothrottle": False, "concurrency": 16}

# -- word banks (all invented) ------------------------------------------------------------------------------

_TOWN_A = "Ash Brack Cold Dun Elm Fair Gold Har Ivy Kes Lang Mar Nor Oak Pen Rad Sel Thorn Wes Yar".split()
_TOWN_B = "ford ley wick mouth ton bury field haven stead combe gate holm brook by thorpe well".split()
_FIRST = (
    "Alice Amir Bea Callum Dara Edith Femi Grace Hamza Ines Jonah Kasia Leon Maya Nils Orla Priya Quentin Rosa "
    "Sami Tessa Umar Vera Wren Yusuf Zoe Arlo Bryony Cyrus Delia Ewan Farah Gideon Hana Idris Juno"
).split()
_LAST = (
    "Abbott Baines Castell Dunmore Ellery Fenwick Garside Holloway Ingram Jessop Kettle Lowther Marsh Neville "
    "Okafor Pryce Quarry Rowntree Sayer Thackeray Upton Vance Whitlock Yardley Ashdown Blackwood Crane Devlin"
).split()
_ROLES = (
    "chair of the planning committee", "head of operations", "a local councillor", "the chief executive",
    "a spokesperson for the trust", "the project manager", "a senior engineer", "the head teacher",
    "the harbour master", "a consultant surgeon", "the finance director", "a union representative",
    "the chief constable", "a researcher at the university", "the site manager", "the club secretary",
)  # fmt: skip
_ORGS = (
    "the district council", "the regional health board", "the water company", "the county court",
    "the port authority", "the bus operator", "the university", "the fire service", "the housing association",
    "the chamber of commerce", "the rail operator", "the environment agency", "the school trust",
    "the police", "the hospital trust", "the river trust", "the energy cooperative", "the festival committee",
)  # fmt: skip
_SUBJECTS = (
    "the bridge repairs", "the new bus timetable", "the flood defence scheme", "the school merger",
    "the hospital car park", "the harbour dredging", "the library refurbishment", "the bypass extension",
    "the recycling contract", "the market square redesign", "the housing estate plans", "the water main renewal",
    "the cycle lane trial", "the pier restoration", "the wind farm proposal", "the leisure centre closure",
    "the ferry service", "the court backlog", "the allotment sale", "the broadband rollout",
    "the sea wall survey", "the night bus pilot", "the speed limit review", "the theatre reopening",
)  # fmt: skip
_VERBS_PAST = (
    "approved", "delayed", "rejected", "postponed", "revised", "expanded", "scaled back", "reopened",
    "questioned", "endorsed", "reviewed", "paused", "costed", "audited", "extended", "shortened",
)  # fmt: skip
_REASONS = (
    "rising material costs", "a shortage of engineers", "objections from residents", "a legal challenge",
    "an unexpectedly wet winter", "new safety guidance", "a gap in the budget", "delays at the supplier",
    "a change of contractor", "the results of a structural survey", "a late planning objection",
    "a dispute over land ownership", "the discovery of old mine workings", "a fault in the original design",
)  # fmt: skip
_PLACES_EXTRA = (
    "the old station yard", "the quayside", "the ring road", "the retail park", "the college campus",
    "the northern estate", "the river crossing", "the market hall", "the industrial estate", "the seafront",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
_QUOTES = (
    "Nobody expected the work to take this long, and the patience of residents has been remarkable",
    "The figures show a clear change since the spring and it is too early to call it a trend",
    "The decision was not taken lightly and the alternatives were all more expensive",
    "Every option was examined in detail before the committee voted",
    "The survey found problems that had been hidden for decades",
    "Traffic on the route has already fallen by a noticeable margin",
    "The old arrangement simply could not cope with the number of passengers",
    "The plans will be reviewed again before the end of the season",
    "It is a relief to see the doors open again after so many months",
    "The inspectors were thorough and their report was fair",
)  # fmt: skip
_NOUNS = (
    "residents", "passengers", "pupils", "patients", "traders", "drivers", "volunteers", "households",
    "fishermen", "tenants", "commuters", "visitors", "staff", "students", "cyclists", "farmers",
)  # fmt: skip
_COMMENTERS = ("harbourwatcher", "oldtowner", "j_pryce", "cyclist_22", "Marge T", "north_end_nan", "ferryman")
_COMMENT_TEXT = (
    "About time somebody looked at this properly.",
    "I walk past there every morning and nothing has changed in months.",
    "Does anyone know whether the car park will stay open during the work?",
    "Good to read a balanced report on this for once.",
    "The consultation was held in the middle of the school holidays, which says it all.",
    "My father worked on the original scheme in the seventies.",
    "Would be interesting to see the full costs published.",
    "Well done to the volunteers, they have kept things going.",
)  # fmt: skip
_CSS_PROPS = ("margin", "padding", "color", "font-size", "line-height", "border-bottom", "display", "max-width")
_CSS_VALUES = ("0", "1rem", "0.5em 1em", "#222", "#fafafa", "1.4", "1px solid #ddd", "flex", "72rem", "inherit")


@dataclass(frozen=True)
class Appeals:
    """The appeal wording of one publisher: the same on every one of its article pages."""

    donation_heading: str
    donation_paragraphs: tuple[str, ...]
    donation_cta: str
    donation_dismiss: str
    newsletter: tuple[str, str, str]  # heading, blurb, button
    inline: tuple[str, str, str]  # bold lead, body, link text

    def lines(self) -> list[str]:
        """Visible text of every appeal on an article page, one string per paragraph or line."""
        return [
            " ".join(self.inline),
            self.donation_heading,
            *self.donation_paragraphs,
            self.donation_cta,
            self.donation_dismiss,
            *self.newsletter,
        ]


@dataclass
class Article:
    publisher: str
    path: str
    title: str
    author: str
    section: str
    published: datetime  # UTC
    summary: str
    paragraphs: list[str]
    url: str = ""  # set once the server is bound


@dataclass
class Publisher:
    name: str
    title: str
    layout: str
    sitemap_kind: str  # "urlset" | "news"
    towns: tuple[str, ...]
    sections: tuple[str, ...]
    appeals: Appeals
    articles: list[Article] = field(default_factory=list)  # the day's and the older ones, newest first
    host: str = ""
    base_url: str = ""
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def e(text: str) -> str:
    return escape(text, quote=False)


def ea(text: str) -> str:
    return escape(text, quote=True)


def slugify(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


# -- text generation ----------------------------------------------------------------------------------------


class Writer:
    """Deterministic news-like prose for one publisher; every paragraph is unique within the publisher."""

    def __init__(self, rng: random.Random, towns: tuple[str, ...]) -> None:
        self.rng, self.towns = rng, towns
        self.used: set[str] = set()

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def money(self) -> str:
        r = self.rng
        return r.choice([f"£{r.randint(2, 95)}.{r.randint(1, 9)}m", f"£{r.randint(120, 990)},000"])

    def sentence(self, subject: str, town: str) -> str:
        r = self.rng
        n = r.randint(3, 480)
        templates = (
            lambda: (
                f"{r.choice(_ORGS).capitalize()} said on {r.choice(_WEEKDAYS)} that {subject} in {town} "
                f"had been {r.choice(_VERBS_PAST)} after {r.choice(_REASONS)}."
            ),
            lambda: (
                f"The original plan put the cost at {self.money()}, but the latest estimate is "
                f"{self.money()}, largely because of {r.choice(_REASONS)}."
            ),
            lambda: (
                f"{self.person()}, {r.choice(_ROLES)}, told the meeting that {n} {r.choice(_NOUNS)} had "
                f"written in about {subject} since {r.choice(_MONTHS)}."
            ),
            lambda: (
                f"Work near {r.choice(_PLACES_EXTRA)} is expected to continue until {r.choice(_MONTHS)}, "
                f"with lane closures on {r.choice(_WEEKDAYS)}s and {r.choice(_WEEKDAYS)}s."
            ),
            lambda: (
                f"A report published by {r.choice(_ORGS)} found that {r.randint(11, 89)} per cent of "
                f"{r.choice(_NOUNS)} in {town} had been affected at least once."
            ),
            lambda: (
                f"Figures released this week show {n} {r.choice(_NOUNS)} used the service in the first "
                f"{r.randint(2, 11)} weeks, against a forecast of {n + r.randint(15, 300)}."
            ),
            lambda: (
                f"Campaigners in {r.choice(self.towns)} have asked {r.choice(_ORGS)} to publish the full "
                f"survey results before {subject} goes any further."
            ),
            lambda: (
                f"The scheme was first proposed in {r.randint(1994, 2019)}, when {r.choice(_ORGS)} "
                f"{r.choice(_VERBS_PAST)} a smaller version of it."
            ),
            lambda: (
                f"Opposition members {r.choice(_VERBS_PAST)} the timetable, arguing that {r.choice(_REASONS)} "
                f"should have been foreseen."
            ),
            lambda: (
                f"{self.person()} said {r.choice(_NOUNS)} near {r.choice(_PLACES_EXTRA)} had been told to "
                f"expect disruption for about {r.randint(2, 30)} days."
            ),
            lambda: (
                f"An inquiry into {subject} will hear evidence from {r.randint(4, 40)} witnesses, "
                f"starting on {r.choice(_WEEKDAYS)} {r.randint(1, 28)} {r.choice(_MONTHS)}."
            ),
            lambda: (
                f"Contractors removed {r.randint(12, 900)} tonnes of material from {r.choice(_PLACES_EXTRA)} "
                f"during the {r.choice(['first', 'second', 'third', 'final'])} phase."
            ),
        )
        return r.choice(templates)()

    def quote(self) -> str:
        r = self.rng
        return f"\u201c{r.choice(_QUOTES)},\u201d said {self.person()}, {r.choice(_ROLES)}."

    def paragraph(self, subject: str, town: str) -> str:
        for _ in range(50):
            if self.rng.random() < 0.18:
                text = self.quote() + " " + self.sentence(subject, town)
            else:
                text = " ".join(self.sentence(subject, town) for _ in range(self.rng.randint(2, 4)))
            if text not in self.used:
                self.used.add(text)
                return text
        raise RuntimeError("could not generate a unique paragraph")

    def headline(self, subject: str, town: str) -> str:
        r = self.rng
        verb = r.choice(_VERBS_PAST)
        return r.choice(
            [
                f"{subject.removeprefix('the ').capitalize()} {verb} in {town} after {r.choice(_REASONS)}",
                f"{subject.removeprefix('the ').capitalize()} in {town} {verb}, {r.choice(_ORGS)} confirms",
                f"{r.randint(3, 480)} {r.choice(_NOUNS)} affected as {subject} in {town} is {verb}",
            ]
        )


def _appeals(title: str, rng: random.Random) -> Appeals:
    short = title.removeprefix("The ")
    return Appeals(
        donation_heading=f"A message from {title}:",
        donation_paragraphs=(
            "Dear readers,",
            f"{short} has covered {rng.choice(['council meetings', 'the courts', 'the harbour', 'local schools'])} "
            "for decades, and local newsrooms around us keep closing. We are still here, but only just.",
            "Your support, however small, keeps a reporter on the beat. If you can, please support us monthly "
            f"starting from just £{rng.randint(2, 5)}. Every contribution goes straight into local reporting.",
        ),
        donation_cta="Support us",
        donation_dismiss="Remind me later.",
        newsletter=(
            f"Get the {short} morning briefing",
            "Sign up for our free newsletter and get the day's local news in your inbox every morning.",
            "Sign up",
        ),
        inline=(
            "Support independent journalism.",
            f"{short} is funded by readers like you, not by billionaires or big advertisers.",
            "Donate today.",
        ),
    )


def build_publishers(day: date, sources: int, articles: int, older: int = 10, seed: int = 5) -> list[Publisher]:
    """The model of the whole site (no HTML yet): publishers and their articles, newest first."""
    rng = random.Random(seed)
    publishers = []
    towns_all = [a + b for a in _TOWN_A for b in _TOWN_B]
    rng.shuffle(towns_all)
    for index in range(sources):
        towns = tuple(towns_all[index * 8 : index * 8 + 8])
        title = f"The {towns[0]} {rng.choice(['Courier', 'Ledger', 'Gazette', 'Herald', 'Post', 'Chronicle'])}"
        sections = tuple(rng.sample(("Local", "Business", "Health", "Education", "Transport", "Courts",
                                     "Environment", "Culture", "Sport", "Politics"), 6))  # fmt: skip
        pub = Publisher(
            name=f"scale{index + 1:02d}",
            title=title,
            layout=LAYOUTS[index % len(LAYOUTS)],
            sitemap_kind="news" if index % 2 else "urlset",
            towns=towns,
            sections=sections,
            appeals=_appeals(title, rng),
        )
        writer = Writer(random.Random(f"{seed}-{index}"), towns)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        # the day's stories spread over the whole UTC day, then `older` ones from the day before
        offsets = sorted(writer.rng.sample(range(60, 86_340), articles), reverse=True)
        offsets += sorted(writer.rng.sample(range(-86_340, -60), older), reverse=True)
        for number, offset in enumerate(offsets):
            published = start + timedelta(seconds=offset)
            subject, town = writer.rng.choice(_SUBJECTS), writer.rng.choice(towns)
            title_text = writer.headline(subject, town)
            paragraphs = [writer.paragraph(subject, town) for _ in range(writer.rng.randint(6, 15))]
            section = writer.rng.choice(sections)
            slug = f"{slugify(title_text)[:60].strip('-')}-{number:04d}"
            pub.articles.append(
                Article(
                    publisher=pub.name,
                    path=_article_path(pub.layout, published, slugify(section), slug),
                    title=title_text,
                    author=writer.person(),
                    section=section,
                    published=published,
                    summary=writer.sentence(subject, town),
                    paragraphs=paragraphs,
                )
            )
        publishers.append(pub)
    return publishers


def _article_path(layout: str, published: datetime, section: str, slug: str) -> str:
    if layout == "wordpress":
        return f"/{published:%Y/%m/%d}/{slug}/"
    if layout == "html5":
        return f"/news/{section}/{slug}"
    return f"/stories/{published:%Y%m%d}/{slug}.html"


# -- rendering ----------------------------------------------------------------------------------------------


class Renderer:
    """Renders one publisher's pages once its base URL is known."""

    def __init__(self, pub: Publisher, seed: int) -> None:
        self.pub, self.base = pub, pub.base_url
        self.rng = random.Random(f"render-{seed}-{pub.name}")
        self.css = self._css()
        self.script = self._script()
        self.menu = self._menu()
        self.footer_links = self._footer_links()

    def url(self, path: str) -> str:
        return self.base + path

    def _css(self) -> str:
        rules = []
        for block in ("site", "masthead", "menu", "story", "byline", "related", "widget", "footer", "promo"):
            for element in ("", "__title", "__item", "__link", "__meta", "--wide"):
                props = ";".join(
                    f"{p}:{self.rng.choice(_CSS_VALUES)}" for p in self.rng.sample(_CSS_PROPS, self.rng.randint(2, 5))
                )
                rules.append(f".{block}{element}{{{props}}}")
        return "".join(rules)

    def _script(self) -> str:
        keys = ", ".join(f'"slot{i}": "{self.rng.getrandbits(64):016x}"' for i in range(40))
        return (
            "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
            f"gtag('js',new Date());gtag('config','G-{self.rng.getrandbits(32):08X}');"
            f"window.__SITE_CONFIG__={{ {keys} }};"
        )

    def ad_config(self, a: Article) -> str:
        """The page's ad-slot configuration: what makes real article pages vary so much in size."""
        slots = ",".join(
            f'{{"id":"ad-{i}","sizes":[[300,250],[728,90]],"targeting":{{"section":"{slugify(a.section)}",'
            f'"pos":{i},"kv":"{self.rng.getrandbits(48):012x}"}}}}'
            for i in range(self.rng.randint(10, 240))
        )
        return f'<script>window.__ADS__={{"slots":[{slots}]}};</script>'

    def _menu(self) -> str:
        items = []
        for section in self.pub.sections:
            base = f"/{slugify(section)}/"
            sub = "".join(
                f'<li class="menu__item"><a class="menu__link" href="{ea(self.url(base + slugify(t) + "/"))}">'
                f"{e(t)}</a></li>"
                for t in self.pub.towns
            )
            items.append(
                f'<li class="menu__item menu__item--has-children"><a class="menu__link" '
                f'href="{ea(self.url(base))}">{e(section)}</a><ul class="sub-menu">{sub}</ul></li>'
            )
        return "\n".join(items)

    def _footer_links(self) -> str:
        labels = [
            *("About us", "Contact", "Corrections", "Privacy", "Cookie settings", "Terms", "Advertise", "Jobs"),
            *("Archive", "Accessibility", "RSS", "Complaints"),
            *(f"{t} news" for t in self.pub.towns),
        ]
        return "".join(f'<li><a href="{ea(self.url("/" + slugify(x) + "/"))}">{e(x)}</a></li>' for x in labels)

    # -- blocks shared by the layouts ---------------------------------------------------------------------

    def head(self, a: Article) -> str:
        pub_iso = a.published.isoformat(timespec="seconds")
        return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(a.title)} | {e(self.pub.title)}</title>
<link rel="canonical" href="{ea(self.url(a.path))}">
<meta name="description" content="{ea(a.summary)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{ea(a.title)}">
<meta property="og:url" content="{ea(self.url(a.path))}">
<meta property="og:site_name" content="{ea(self.pub.title)}">
<meta property="article:published_time" content="{pub_iso}">
<meta property="article:section" content="{ea(a.section)}">
<meta name="author" content="{ea(a.author)}">
<link rel="alternate" type="application/rss+xml" href="{ea(self.url("/feed.xml"))}">
<style>{self.css}</style>
<script>{self.script}</script>
{self.ad_config(a)}
</head>
"""

    def masthead(self) -> str:
        return f"""<div class="cookie-banner" role="dialog" aria-label="Cookie consent"><p>This site uses cookies to
measure traffic and remember settings.</p><button type="button">Accept all</button><button type="button">Reject
non-essential</button></div>
<header class="masthead"><a class="masthead__title" href="{ea(self.url("/"))}">{e(self.pub.title)}</a>
<nav class="menu" aria-label="Main menu"><ul class="menu__list">
<li class="menu__item"><a class="menu__link" href="{ea(self.url("/"))}">Home</a></li>
{self.menu}
</ul></nav>
<form class="search" action="{ea(self.url("/search/"))}"><input type="search" name="q" aria-label="Search">
<button type="submit">Search</button></form></header>
"""

    def newsletter(self) -> str:
        heading, blurb, button = self.pub.appeals.newsletter
        return f"""<div class="newsletter-signup" data-module="newsletter">
<h4>{e(heading)}</h4><p>{e(blurb)}</p>
<form action="{ea(self.url("/newsletter/"))}" method="post"><label for="nl-email">Email address</label>
<input type="email" id="nl-email" name="email" placeholder="name@example.com"><button type="submit">{e(button)}</button>
</form></div>"""

    def inline_appeal(self) -> str:
        lead, body, link = self.pub.appeals.inline
        return f'<p><strong>{e(lead)}</strong> {e(body)} <a href="{ea(self.url("/donate/"))}">{e(link)}</a></p>'

    def donation(self, cls: str) -> str:
        ap = self.pub.appeals
        paras = "\n".join(f"<p>{e(p)}</p>" for p in ap.donation_paragraphs)
        return f"""<div class="{cls}" id="support-banner">
<h3>{e(ap.donation_heading)}</h3>
{paras}
<p><a class="button" href="{ea(self.url("/donate/"))}">{e(ap.donation_cta)}</a>
<a class="dismiss" href="#">{e(ap.donation_dismiss)}</a></p>
</div>"""

    def body_paragraphs(self, a: Article) -> str:
        out = []
        for i, text in enumerate(a.paragraphs):
            if i == 3:
                out.append(self.newsletter())
            out.append(f"<p>{e(text)}</p>")
        out.append(self.inline_appeal())
        return "\n".join(out)

    def related(self, a: Article, others: list[Article]) -> str:
        picks = self.rng.sample(others, min(len(others), self.rng.randint(6, 10)))
        items = "".join(
            f'<li class="related__item"><a class="related__link" href="{ea(self.url(o.path))}">{e(o.title)}</a>'
            f'<p class="related__meta">{e(o.summary)}</p></li>'
            for o in picks
        )
        heading = f"<h2>More on {e(a.section)}</h2>"
        return f'<section class="related" aria-label="Related stories">{heading}<ul>{items}</ul></section>'

    def most_read(self, others: list[Article]) -> str:
        picks = self.rng.sample(others, min(len(others), 5))
        items = "".join(f'<li><a href="{ea(self.url(o.path))}">{e(o.title)}</a></li>' for o in picks)
        return f'<aside class="widget widget--popular"><h2 class="widget__title">Most read</h2><ol>{items}</ol></aside>'

    def comments(self, a: Article) -> str:
        n = self.rng.randint(0, 24)
        items = "".join(
            f'<li class="comment"><p class="comment__author">{e(self.rng.choice(_COMMENTERS))}</p>'
            f'<p class="comment__text">{e(self.rng.choice(_COMMENT_TEXT))}</p>'
            f'<a class="comment__reply" href="#reply">Reply</a></li>'
            for _ in range(n)
        )
        heading = f"<h2>{n} comments</h2>"
        return f'<section id="comments" class="comments">{heading}<ol class="comment-list">{items}</ol></section>'

    def share(self, a: Article) -> str:
        icon = '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path d="M4 4h16v16H4z"/></svg>'
        return "".join(
            f'<li><a class="share__link" href="https://{host}/share?u={ea(self.url(a.path))}">{icon}{label}</a></li>'
            for host, label in (("x.example", "Post"), ("fb.example", "Share"), ("mail.example", "Email"))
        )

    def footer(self) -> str:
        return f"""<footer class="footer"><ul class="footer__links">{self.footer_links}</ul>
<p class="footer__meta">&copy; {self.pub.title}. Registered office: {self.pub.towns[0]} Road, {self.pub.towns[1]}.
All rights reserved.</p></footer>
</body>
</html>
"""

    # -- layouts ------------------------------------------------------------------------------------------

    def article(self, a: Article, others: list[Article]) -> str:
        return getattr(self, f"_{self.pub.layout}")(a, others)

    def _time(self, a: Article) -> str:
        return f'<time datetime="{a.published.isoformat(timespec="seconds")}">{a.published:%d %B %Y, %H:%M} UTC</time>'

    def _wordpress(self, a: Article, others: list[Article]) -> str:
        return f"""{self.head(a)}<body class="post-template-default single">
<div id="page" class="site">{self.masthead()}
<div id="content" class="site-content"><main id="primary" class="site-main">
<article class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{e(a.title)}</h1>
<div class="entry-meta">By <a href="{ea(self.url("/author/" + slugify(a.author) + "/"))}">{e(a.author)}</a>
{self._time(a)}</div></header>
<ul class="share">{self.share(a)}</ul>
<div class="entry-content">
{self.body_paragraphs(a)}
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="#">{e(a.section)}</a></span></footer>
</article>
{self.donation("donate-banner")}
{self.related(a, others)}
{self.comments(a)}
</main>
<div id="secondary" class="widget-area">{self.most_read(others)}</div></div>
</div>
{self.footer()}"""

    def _html5(self, a: Article, others: list[Article]) -> str:
        return f"""{self.head(a)}<body>
{self.masthead()}
<main id="main">
<article class="story">
<header><p class="story__kicker">{e(a.section)}</p><h1 class="story__title">{e(a.title)}</h1>
<p class="byline">By <span class="byline__author">{e(a.author)}</span> {self._time(a)}</p></header>
<section class="story-body">
{self.body_paragraphs(a)}
</section>
<ul class="share">{self.share(a)}</ul>
</article>
<aside class="support-us" aria-label="Support us">{self.donation("support-us__inner")}</aside>
{self.related(a, others)}
{self.most_read(others)}
{self.comments(a)}
</main>
{self.footer()}"""

    def _legacy(self, a: Article, others: list[Article]) -> str:
        ld = (
            '{"@context":"https://schema.org","@type":"NewsArticle",'
            f'"headline":"{ea(a.title)}","datePublished":"{a.published.isoformat(timespec="seconds")}",'
            f'"author":{{"@type":"Person","name":"{ea(a.author)}"}},'
            f'"publisher":{{"@type":"Organization","name":"{ea(self.pub.title)}"}}}}'
        )
        return f"""{self.head(a)}<body bgcolor="#ffffff">
<script type="application/ld+json">{ld}</script>
{self.masthead()}
<table width="100%" cellpadding="0" cellspacing="0" class="layout"><tr>
<td valign="top" class="maincol">
<div id="story"><h1 class="headline">{e(a.title)}</h1>
<div class="storyinfo">{e(a.author)} | {self._time(a)}</div>
<div id="storytext">
{self.body_paragraphs(a)}
</div></div>
{self.donation("donation-appeal")}
{self.related(a, others)}
{self.comments(a)}
</td>
<td valign="top" width="300" class="sidecol">{self.most_read(others)}</td>
</tr></table>
{self.footer()}"""

    # -- discovery documents ------------------------------------------------------------------------------

    def robots(self) -> str:
        return f"User-agent: *\nAllow: /\n\nSitemap: {self.url('/sitemap.xml')}\n"

    def sitemap(self) -> str:
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        if self.pub.sitemap_kind == "news":
            ns += ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
        urls = []
        for a in self.pub.articles:
            when = a.published.isoformat(timespec="seconds")
            if self.pub.sitemap_kind == "news":
                urls.append(
                    f"<url><loc>{ea(a.url)}</loc><news:news><news:publication><news:name>{e(self.pub.title)}"
                    "</news:name><news:language>en</news:language></news:publication>"
                    f"<news:publication_date>{when}</news:publication_date><news:title>{e(a.title)}</news:title>"
                    "</news:news></url>"
                )
            else:
                urls.append(f"<url><loc>{ea(a.url)}</loc><lastmod>{when}</lastmod></url>")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {ns}>\n' + "\n".join(urls) + "\n</urlset>\n"

    def feed(self) -> str:
        items = "".join(
            f"<item><title>{e(a.title)}</title><link>{e(a.url)}</link><guid>{e(a.url)}</guid>"
            f"<pubDate>{format_datetime(a.published)}</pubDate><description>{e(a.summary)}</description></item>\n"
            for a in self.pub.articles[:FEED_ITEMS]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{e(self.pub.title)}</title><link>{e(self.url('/'))}</link>"
            f"<description>Latest news</description>\n{items}</channel></rss>\n"
        )

    def files(self) -> dict[str, tuple[str, bytes]]:
        html = "text/html; charset=utf-8"
        out = {
            "/robots.txt": ("text/plain; charset=utf-8", self.robots().encode()),
            "/sitemap.xml": ("application/xml", self.sitemap().encode()),
            "/feed.xml": ("application/rss+xml", self.feed().encode()),
        }
        articles = self.pub.articles
        for i, a in enumerate(articles):
            others = articles[max(0, i - 30) : i] + articles[i + 1 : i + 31]
            out[a.path] = (html, self.article(a, others).encode())
        return out


# -- serving ------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the crawler reuses its connections
    server_version = "ScaleSite/1.0"
    files: dict[str, tuple[str, bytes]] = {}
    counter: list[int]  # [requests, 404s], one list per publisher

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(False)

    def _serve(self, send_body: bool) -> None:
        found = self.files.get(urlsplit(self.path).path)
        status = 200
        self.counter[0] += 1  # a lost increment under a race only makes a diagnostic figure approximate
        if found is None:
            self.counter[1] += 1
            status, found = 404, ("text/plain; charset=utf-8", b"not found\n")
        content_type, body = found
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class ScaleSite:
    """Renders and serves the site; a context manager. `host_prefix.first_host+i` is publisher i's address."""

    def __init__(
        self,
        day: date,
        sources: int = 8,
        articles: int = 250,
        older: int = 10,
        seed: int = 5,
        host_prefix: str = "127.0.1",
        first_host: int = 1,
    ) -> None:
        self.day, self.seed = day, seed
        self.host_prefix, self.first_host = host_prefix, first_host
        self.publishers = build_publishers(day, sources, articles, older, seed)
        self.counters: dict[str, list[int]] = {}
        self._servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []
        self.render_seconds = 0.0

    def start(self) -> ScaleSite:
        started = time.perf_counter()
        try:
            for i, pub in enumerate(self.publishers):
                pub.host = f"{self.host_prefix}.{self.first_host + i}"
                counter = self.counters[pub.name] = [0, 0]
                handler = type(f"Handler_{pub.name}", (_Handler,), {"counter": counter})
                server = ThreadingHTTPServer((pub.host, 0), handler)
                server.daemon_threads = True
                pub.base_url = f"http://{pub.host}:{server.server_address[1]}"
                for article in pub.articles:
                    article.url = pub.base_url + article.path
                pub.files = handler.files = Renderer(pub, self.seed).files()  # absolute URLs need the port
                thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
                self._servers.append((server, thread))
                thread.start()
        except BaseException:
            self.stop()
            raise
        self.render_seconds = time.perf_counter() - started
        return self

    def stop(self) -> None:
        stop_servers(self._servers)

    def __enter__(self) -> ScaleSite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what the benchmark needs -----------------------------------------------------------------------

    def sources(self, politeness: dict | None = None) -> list[dict]:
        """Entries for a sources file, politeness off by default (our own servers on loopback)."""
        return [
            {
                "name": pub.name,
                "feeds": [pub.base_url + "/feed.xml"],
                "sitemaps": [pub.base_url + "/sitemap.xml"],
                "allowed_domains": [pub.host],
                "language": "en",
                "politeness": dict(NO_POLITENESS if politeness is None else politeness),
            }
            for pub in self.publishers
        ]

    def write_sources(self, path: str | Path, politeness: dict | None = None) -> Path:
        path = Path(path)
        path.write_text(yaml.safe_dump({"sources": self.sources(politeness)}, sort_keys=False), encoding="utf-8")
        return path

    def expected(self) -> dict[str, dict[str, Article]]:
        """Per publisher, the articles published on the benchmark day (UTC), by URL."""
        return {
            pub.name: {a.url: a for a in pub.articles if a.published.astimezone(UTC).date() == self.day}
            for pub in self.publishers
        }

    def page_sizes(self) -> list[int]:
        return [len(pub.files[a.path][1]) for pub in self.publishers for a in pub.articles if a.path in pub.files]

    def requests(self) -> tuple[int, int]:
        """(requests served, 404s) since start, over all publishers."""
        return sum(c[0] for c in self.counters.values()), sum(c[1] for c in self.counters.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=2)
    parser.add_argument("--articles", type=int, default=5)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 2, 10))
    args = parser.parse_args()
    with ScaleSite(args.day, args.sources, args.articles) as site:
        sizes = sorted(site.page_sizes())
        print(f"rendered {len(sizes)} pages in {site.render_seconds:.1f} s; {sizes[0]}..{sizes[-1]} bytes")
        for pub in site.publishers:
            print(f"{pub.name:10} {pub.base_url}/sitemap.xml  {pub.articles[0].url}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
