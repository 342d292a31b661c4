"""Ground-truth data model of the demo site: publishers and their articles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Publisher:
    name: str  # machine name, [a-z0-9_-]+
    title: str  # display name, e.g. "The Millbrook Courier"
    language: str = "en"
    layout: str = "wordpress"  # "wordpress" | "html5" | "legacy", see demo_site/layouts/
    locale: str = "en-US"
    tagline: str = ""
    # offset used when the page displays local times; ground truth is always UTC
    utc_offset_min: int = 0
    feed_kind: str = "rss"  # "rss" | "atom"
    feed_path: str = "/feed/"
    sitemap_kind: str = "urlset"  # "urlset" | "index" | "news"
    sitemap_path: str = "/sitemap.xml"
    # str.format patterns; fields: published (datetime), slug, section (slug)
    article_path: str = "/{published:%Y/%m/%d}/{slug}/"
    section_path: str = "/category/{section}/"
    author_path: str | None = None  # None: bylines are not links
    sections: tuple[str, ...] = ()

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=self.utc_offset_min))

    def section_url_path(self, section: str) -> str:
        return self.section_path.format(section=slugify(section))

    def author_url_path(self, author: str) -> str | None:
        return self.author_path.format(author=slugify(author)) if self.author_path else None

    def feed_urls(self, base_url: str) -> list[str]:
        return [base_url + self.feed_path]

    def sitemap_urls(self, base_url: str) -> list[str]:
        return [base_url + self.sitemap_path]


@dataclass(frozen=True)
class Article:
    publisher: str  # Publisher.name
    path: str  # absolute path on the publisher's host, e.g. "/2024/05/17/some-slug/"
    title: str
    author: str
    published: datetime  # UTC, tz-aware
    paragraphs: list[str]  # article body text, in order; what a perfect extractor returns
    appeals: list[str]  # visible text of every appeal on the page, one string per paragraph/line
    section: str = ""
    slug: str = ""
    summary: str = ""
    modified: datetime | None = None  # UTC; equals published unless the story was edited
    # paragraphs (also in `paragraphs`) that talk about donations/newsletters as news: keep them
    news_mentions: list[str] = field(default_factory=list)
    appeal_variant: int = 0  # which inline-appeal wording this page uses

    def url(self, base_url: str) -> str:
        return base_url + self.path

    @property
    def last_modified(self) -> datetime:
        return self.modified or self.published
