"""Builds the demo site model from an anchor date; pure, no I/O."""

from __future__ import annotations

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
