"""Builds the demo site model from an anchor date, and the fault rules the server can apply; pure, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .content import APPEALS, STORIES, Story
from .model import Article, Publisher, slugify

PUBLISHERS: tuple[Publisher, ...] = (
    # WordPress-like theme: <article><div class="entry-content">, RSS at /feed/, Yoast-style sitemap index
    Publisher(
        name="millbrook",
        title="The Millbrook Courier",
        layout="wordpress",
        locale="en-US",
        tagline="News for Millbrook and the Tamsin Valley since 1911",
        utc_offset_min=0,
        feed_kind="rss",
        feed_path="/feed/",
        sitemap_kind="index",
        sitemap_path="/sitemap_index.xml",
        article_path="/{published:%Y/%m/%d}/{slug}/",
        section_path="/category/{section}/",
        author_path="/author/{author}/",
        sections=("Local", "Education", "Business", "Community", "Transportation", "Sports"),
    ),
    # Semantic HTML5: <main><article><section class="story-body">, Atom feed, plain urlset sitemap
    Publisher(
        name="eastmere",
        title="Eastmere Ledger",
        layout="html5",
        locale="en-GB",
        tagline="Independent news for Eastmere and the Fen villages",
        utc_offset_min=60,  # pages show British Summer Time
        feed_kind="atom",
        feed_path="/atom.xml",
        sitemap_kind="urlset",
        sitemap_path="/sitemap.xml",
        article_path="/news/{section}/{slug}",
        section_path="/news/{section}/",
        author_path="/people/{author}/",
        sections=("Environment", "Business", "Health", "Transport", "Sport", "Culture"),
    ),
    # Old nested-div/table layout with JSON-LD NewsArticle, RSS, Google News sitemap
    Publisher(
        name="portcalder",
        title="Port Calder Wire",
        layout="legacy",
        locale="en-GB",
        tagline="The west coast's harbour news service",
        utc_offset_min=0,
        feed_kind="rss",
        feed_path="/rss/latest.xml",
        sitemap_kind="news",
        sitemap_path="/news-sitemap.xml",
        article_path="/stories/{published:%Y%m%d}/{slug}.html",
        section_path="/section/{section}/",
        author_path=None,
        sections=("Harbour", "Health", "Fishing", "Business", "Courts", "Weather"),
    ),
)


@dataclass
class Site:
    anchor: date
    publishers: list[Publisher]
    articles: list[Article]

    def publisher(self, name: str) -> Publisher:
        for pub in self.publishers:
            if pub.name == name:
                return pub
        raise KeyError(name)

    def articles_of(self, publisher_name: str) -> list[Article]:
        """Articles of one publisher, newest first (the order feeds and front pages use)."""
        found = [a for a in self.articles if a.publisher == publisher_name]
        return sorted(found, key=lambda a: a.published, reverse=True)

    def files(self, publisher_name: str, base_url: str) -> dict[str, tuple[str, bytes]]:
        """Every file the publisher serves: path -> (content type, body), URLs built on base_url."""
        from .pages import build_files  # late import: pages imports this module for typing

        return build_files(self, self.publisher(publisher_name), base_url.rstrip("/"))


def _article(story: Story, pub: Publisher, anchor: date, variant: int) -> Article:
    hh, mm = (int(x) for x in story.time.split(":"))
    published = datetime.combine(anchor - timedelta(days=story.day_offset), time(hh, mm), tzinfo=UTC)
    modified = published + timedelta(minutes=story.updated_after_min)
    path = pub.article_path.format(published=published, slug=story.slug, section=slugify(story.section))
    return Article(
        publisher=pub.name,
        path=path,
        title=story.title,
        author=story.author,
        published=published,
        paragraphs=list(story.paragraphs),
        appeals=APPEALS[pub.name].lines(variant),
        section=story.section,
        slug=story.slug,
        summary=story.summary,
        modified=modified,
        news_mentions=[story.paragraphs[i] for i in story.mentions],
        appeal_variant=variant,
    )


def build_site(anchor: date) -> Site:
    """The whole demo site for `anchor` (the newest day; stories go back up to three days)."""
    if isinstance(anchor, datetime):  # a datetime is a date too; only its day matters
        anchor = anchor.date()
    articles: list[Article] = []
    for pub in PUBLISHERS:
        for i, story in enumerate(s for s in STORIES if s.publisher == pub.name):
            articles.append(_article(story, pub, anchor, variant=i))
    return Site(anchor=anchor, publishers=list(PUBLISHERS), articles=articles)


# ----------------------------------------------------------------------------- fault injection

FAULT_SCOPES = {"articles": {"article"}, "documents": {"document"}, "all": {"article", "document"}}


def share_point(salt: str, path: str) -> float:
    """A stable number in [0, 1) for a path: where it falls decides which fault band, if any, it is in."""
    digest = hashlib.sha256(f"{salt}\0{path}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Fault:
    """A fault rule for one publisher of the served site: which of its paths misbehave, and how.

    Deterministic per path: a path in `scope` whose `share_point(salt, path)` falls in [0, error_share)
    answers `status` (with `Retry-After: retry_after` if set) on every request, so retries never help; one in
    [error_share, error_share + slow_share) is answered normally but only after `delay` seconds (make it
    longer than the client's download timeout and the request times out, every time). Other paths, and
    robots.txt and the HTML pages that are neither articles nor in scope, are served normally.

    `scope`: "articles" (the publisher's article pages), "documents" (its feed and sitemaps) or "all" (both).
    A different `salt` picks a different, equally deterministic, set of paths.
    """

    scope: str = "articles"
    error_share: float = 0.0
    status: int = 503
    retry_after: int | None = None
    slow_share: float = 0.0
    delay: float = 0.0
    salt: str = ""

    def __post_init__(self) -> None:
        if self.scope not in FAULT_SCOPES:
            raise ValueError(f"unknown fault scope {self.scope!r}; known: {sorted(FAULT_SCOPES)}")
        if not (0 <= self.error_share <= 1 and 0 <= self.slow_share <= 1 and self.error_share + self.slow_share <= 1):
            raise ValueError(f"fault shares must be in [0, 1] and add up to 1 at most: {self}")
        if not 400 <= self.status <= 599:
            raise ValueError(f"a fault status is an HTTP error, 4xx or 5xx, not {self.status}")
        if self.slow_share and self.delay <= 0:
            raise ValueError("a slow share needs a positive delay")

    def outcome(self, path: str, kind: str | None) -> str | None:
        """What this rule does to `path` (an "article", a "document" or neither): "error", "slow" or None."""
        if kind not in FAULT_SCOPES[self.scope]:
            return None
        point = share_point(self.salt, path)
        if point < self.error_share:
            return "error"
        if point < self.error_share + self.slow_share:
            return "slow"
        return None
