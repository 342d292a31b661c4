"""robots.txt, RSS 2.0 / Atom feeds and the three sitemap flavours."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from email.utils import format_datetime
from html import escape as _escape

from .model import Article, Publisher


def escape(text: str) -> str:
    """XML-escape; quotes too, because some values land in attributes (href, term)."""
    return _escape(text, quote=True).replace("&#x27;", "'")


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def robots_txt(pub: Publisher, base_url: str) -> str:
    lines = ["User-agent: *", "Allow: /", ""]
    lines += [f"Sitemap: {url}" for url in pub.sitemap_urls(base_url)]
    return "\n".join(lines) + "\n"


def rss(pub: Publisher, base_url: str, articles: list[Article]) -> str:
    items = []
    for a in articles:
        items.append(
            "    <item>\n"
            f"      <title>{escape(a.title)}</title>\n"
            f"      <link>{escape(a.url(base_url))}</link>\n"
            f'      <guid isPermaLink="true">{escape(a.url(base_url))}</guid>\n'
            f"      <pubDate>{format_datetime(a.published)}</pubDate>\n"
            f"      <dc:creator>{escape(a.author)}</dc:creator>\n"
            f"      <category>{escape(a.section)}</category>\n"
            f"      <description>{escape(a.summary)}</description>\n"
            "    </item>\n"
        )
    built = max(a.last_modified for a in articles)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n'
        "  <channel>\n"
        f"    <title>{escape(pub.title)}</title>\n"
        f"    <link>{escape(base_url)}/</link>\n"
        f'    <atom:link href="{escape(base_url + pub.feed_path)}" rel="self" type="application/rss+xml"/>\n'
        f"    <description>{escape(pub.tagline)}</description>\n"
        f"    <language>{pub.locale.lower()}</language>\n"
        f"    <lastBuildDate>{format_datetime(built)}</lastBuildDate>\n"
        + "".join(items)
        + "  </channel>\n</rss>\n"
    )


def atom(pub: Publisher, base_url: str, articles: list[Article]) -> str:
    entries = []
    for a in articles:
        entries.append(
            "  <entry>\n"
            f"    <title>{escape(a.title)}</title>\n"
            f'    <link rel="alternate" type="text/html" href="{escape(a.url(base_url))}"/>\n'
            f"    <id>{escape(a.url(base_url))}</id>\n"
            f"    <published>{iso(a.published)}</published>\n"
            f"    <updated>{iso(a.last_modified)}</updated>\n"
            f"    <author><name>{escape(a.author)}</name></author>\n"
            f'    <category term="{escape(a.section)}"/>\n'
            f"    <summary>{escape(a.summary)}</summary>\n"
            "  </entry>\n"
        )
    updated = max(a.last_modified for a in articles)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{pub.locale}">\n'
        f"  <title>{escape(pub.title)}</title>\n"
        f"  <subtitle>{escape(pub.tagline)}</subtitle>\n"
        f'  <link rel="alternate" type="text/html" href="{escape(base_url)}/"/>\n'
        f'  <link rel="self" type="application/atom+xml" href="{escape(base_url + pub.feed_path)}"/>\n'
        f"  <id>{escape(base_url)}/</id>\n"
        f"  <updated>{iso(updated)}</updated>\n" + "".join(entries) + "</feed>\n"
    )


_SM_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def urlset(base_url: str, articles: list[Article]) -> str:
    urls = "".join(
        f"  <url>\n    <loc>{escape(a.url(base_url))}</loc>\n"
        f"    <lastmod>{iso(a.last_modified)}</lastmod>\n  </url>\n"
        for a in articles
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{_SM_NS}">\n{urls}</urlset>\n'


def day_sitemap_path(day: str) -> str:
    return f"/post-sitemap-{day}.xml"


def sitemap_index(base_url: str, articles: list[Article]) -> dict[str, str]:
    """Sitemap index plus one child urlset per UTC day; returns {path: xml} without the index path."""
    by_day: dict[str, list[Article]] = defaultdict(list)
    for a in articles:
        by_day[a.published.date().isoformat()].append(a)
    files = {day_sitemap_path(day): urlset(base_url, arts) for day, arts in by_day.items()}
    entries = "".join(
        f"  <sitemap>\n    <loc>{escape(base_url + day_sitemap_path(day))}</loc>\n"
        f"    <lastmod>{iso(max(a.last_modified for a in arts))}</lastmod>\n  </sitemap>\n"
        for day, arts in sorted(by_day.items(), reverse=True)
    )
    files["index"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{_SM_NS}">\n{entries}</sitemapindex>\n'
    )
    return files


def news_sitemap(pub: Publisher, base_url: str, articles: list[Article]) -> str:
    urls = "".join(
        "  <url>\n"
        f"    <loc>{escape(a.url(base_url))}</loc>\n"
        "    <news:news>\n"
        "      <news:publication>\n"
        f"        <news:name>{escape(pub.title)}</news:name>\n"
        f"        <news:language>{pub.language}</news:language>\n"
        "      </news:publication>\n"
        f"      <news:publication_date>{iso(a.published)}</news:publication_date>\n"
        f"      <news:title>{escape(a.title)}</news:title>\n"
        "    </news:news>\n"
        "  </url>\n"
        for a in articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="{_SM_NS}" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        f"{urls}</urlset>\n"
    )
