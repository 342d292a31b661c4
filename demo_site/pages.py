"""Assembles every file one publisher serves: HTML pages, robots.txt, feed and sitemaps."""

from __future__ import annotations

from . import feeds
from .layouts import LAYOUTS, Ctx
from .layouts.common import STATIC_PAGES, e, teaser_list
from .model import Publisher
from .site import Site

HTML = "text/html; charset=utf-8"
XML = "application/xml"
CONTENT_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


def build_files(site: Site, pub: Publisher, base_url: str) -> dict[str, tuple[str, bytes]]:
    ctx = Ctx(site, pub, base_url)
    layout = LAYOUTS[pub.layout]
    arts = ctx.articles
    date_fmt = "%B %-d, %Y" if pub.locale == "en-US" else "%-d %B %Y"
    html: dict[str, str] = {}

    html["/"] = layout.page(ctx, "/", "Latest news", teaser_list(ctx, arts, date_fmt))
    for section in pub.sections:
        path = pub.section_url_path(section)
        in_section = [a for a in arts if a.section == section]
        html[path] = layout.page(ctx, path, section, teaser_list(ctx, in_section, date_fmt))
    for author in sorted({a.author for a in arts}):
        path = pub.author_url_path(author)
        if path:
            by_author = [a for a in arts if a.author == author]
            html[path] = layout.page(ctx, path, f"Stories by {author}", teaser_list(ctx, by_author, date_fmt))
    for path, (title, paragraphs) in STATIC_PAGES.items():
        body = "\n".join(f"<p>{e(p.format(title=pub.title))}</p>" for p in paragraphs)
        html[path] = layout.page(ctx, path, title.format(title=pub.title), body)
    for a in arts:
        html[a.path] = layout.article_page(ctx, a)

    files = {path: (HTML, body.encode("utf-8")) for path, body in html.items()}
    files["/robots.txt"] = ("text/plain; charset=utf-8", feeds.robots_txt(pub, base_url).encode())
    feed = feeds.rss(pub, base_url, arts) if pub.feed_kind == "rss" else feeds.atom(pub, base_url, arts)
    files[pub.feed_path] = (CONTENT_TYPES[pub.feed_kind], feed.encode("utf-8"))
    if pub.sitemap_kind == "index":
        parts = feeds.sitemap_index(base_url, arts)
        files[pub.sitemap_path] = (XML, parts.pop("index").encode("utf-8"))
        files.update({path: (XML, xml.encode("utf-8")) for path, xml in parts.items()})
    elif pub.sitemap_kind == "news":
        files[pub.sitemap_path] = (XML, feeds.news_sitemap(pub, base_url, arts).encode("utf-8"))
    else:
        files[pub.sitemap_path] = (XML, feeds.urlset(base_url, arts).encode("utf-8"))
    return files
