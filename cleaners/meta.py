"""Article metadata from the parsed page: title, authors, date, site name (language and canonical URL
come from `page.Page`).

Our own reading, for the four fields an `Article` has, in this order of trust: the head's meta tags
(Open Graph, Twitter, Dublin Core and the usual author tags), then JSON-LD (schema.org Article and
its kinds: headline, author, publisher), then the page itself (a single <h1>, the <title> without
its site part, a byline element). The date is htmldate's (`htmldate.find_date`, its public API).
trafilatura's `extract_metadata` gives the same fields and more (categories, tags, licence), but
costs a third of a whole extraction, mostly in a copy of the page for its author search.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import htmldate

from .page import Page, title_parts

LOG = logging.getLogger(__name__)
MAX_FIELD = 300  # longer "titles" and "names" are page text, not metadata

# meta name/property -> field, first found wins within a field (the order below)
META_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("og:title", "twitter:title", "dc.title", "dcterms.title", "title", "sailthru.title", "parsely-title"),
    "author": (
        "author", "article:author", "dc.creator", "dcterms.creator", "parsely-author", "sailthru.author",
        "byl", "twitter:creator", "citation_author",
    ),
    "site_name": ("og:site_name", "application-name", "twitter:site", "publisher", "dc.publisher"),
}  # fmt: skip
_META_KEYS = {key: name for name, keys in META_FIELDS.items() for key in keys}
ARTICLE_TYPES = frozenset(
    "Article NewsArticle BlogPosting ReportageNewsArticle AnalysisNewsArticle OpinionNewsArticle ReviewNewsArticle"
    " BackgroundNewsArticle Report ScholarlyArticle TechArticle LiveBlogPosting WebPage Blog SocialMediaPosting"
    " Posting".split()
)
_BYLINE = re.compile("author|byline")  # in a class, id, itemprop or rel (lower-cased)
_BY = re.compile(r"^(?:by|von|par|por|de|di|door|av|af|przez|автор|от)[:\s]+", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\band\b|\bund\b|\bet\b|\by\b|&|\|)\s*")
_URLISH = re.compile(r"^(?:https?:|www\.|/)|@.*\.")


@dataclass
class Meta:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    site_name: str | None = None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value if 0 < len(value) <= MAX_FIELD else None


def _head_meta(page: Page) -> dict[str, str]:
    found: dict[str, str] = {}
    for el in page.head_meta:
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        name = _META_KEYS.get(key)
        value = _clean(el.get("content"))
        if name is None or value is None:
            continue
        if name == "author" and _URLISH.search(value):  # a profile URL, not a name
            continue
        rank = META_FIELDS[name].index(key)
        if name not in found or rank < found[name + "#"]:  # type: ignore[operator]
            found[name], found[name + "#"] = value, rank  # type: ignore[assignment]
    return {k: v for k, v in found.items() if not k.endswith("#")}


def _json_objects(data: Any, depth: int = 0) -> Iterator[dict]:
    """Every JSON object in a JSON-LD document, outer first (a @graph's members included)."""
    if depth > 8:
        return
    if isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, (dict, list)):
                yield from _json_objects(value, depth + 1)
    elif isinstance(data, list):
        for item in data[:200]:
            yield from _json_objects(item, depth + 1)


def _types(obj: dict) -> set[str]:
    t = obj.get("@type")
    return {t} if isinstance(t, str) else {x for x in t if isinstance(x, str)} if isinstance(t, list) else set()


def _names(value: Any) -> list[str]:
    """Person names in a schema.org author value: a string, a Person, or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return _names(name) if isinstance(name, (str, list)) else []
    if isinstance(value, list):
        return [n for v in value[:20] for n in _names(v)]
    return []


def _json_ld(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for script in page.json_ld:
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        try:
            objects = list(_json_objects(data))
        except RecursionError:
            continue
        for obj in objects:
            types = _types(obj)
            if types & ARTICLE_TYPES:
                found.setdefault("title", _clean(obj.get("headline")) or _clean(obj.get("name")))
                authors = [a for a in (_clean(n) for n in _names(obj.get("author"))) if a]
                if authors:
                    found.setdefault("authors", authors)
                publisher = obj.get("publisher")
                if isinstance(publisher, dict):
                    found.setdefault("site_name", _clean(publisher.get("name")))
            elif types & {"Organization", "NewsMediaOrganization", "WebSite"}:
                found.setdefault("org_name", _clean(obj.get("name")))
    return {k: v for k, v in found.items() if v}


def _page_title(page: Page, site_name: str | None) -> str | None:
    """The title from the page: its only <h1>, else the <title> less its site part."""
    if len(page.h1_texts) == 1 and _clean(page.h1_texts[0]):
        return _clean(page.h1_texts[0])
    for raw in page.titles[:1]:
        parts = [p.strip() for p in title_parts(raw) if p.strip()]
        if site_name:
            parts = [p for p in parts if p.casefold() != site_name.casefold()] or parts
        return _clean(max(parts, key=len)) if parts else None
    return None


def _without_site(title: str, site: str) -> str:
    """`title` less a leading or trailing "Site |" / "| Site" part."""
    parts = title_parts(title)
    if len(parts) < 2:
        return title
    if parts[-1].strip().casefold() == site.casefold():
        return title[: title.rfind(parts[-1])].rstrip(" |–—:·•-") or title
    if parts[0].strip().casefold() == site.casefold():
        return title[len(parts[0]) :].lstrip(" |–—:·•-") or title
    return title


def _byline(page: Page) -> list[str]:
    """Authors from a byline element of the page (itemprop/rel/class author or byline)."""
    for el in page.elements_with(_BYLINE):
        if el.tag in ("html", "head", "body", "meta", "link", "script") or not _names_author(el):
            continue
        text = _clean(el.text_content())
        if text and 2 < len(text) < 120:
            return _split_authors(_BY.sub("", text))
    return []


def _names_author(el: Any) -> bool:
    """A byline element: itemprop/rel author, or author/byline in its class or id (not e.g. "authorize")."""
    if el.get("itemprop") == "author" or el.get("rel") == "author":
        return True
    words = set(_WORDS.findall(f"{el.get('class') or ''} {el.get('id') or ''}".lower()))
    return bool(words & {"author", "byline", "authors", "author-name", "authorname", "byline-author"})


_WORDS = re.compile(r"[a-z]+(?:-name)?")


def _split_authors(value: str) -> list[str]:
    return [a for a in (_clean(_BY.sub("", p)) for p in _AUTHOR_SPLIT.split(value)) if a and len(a) > 1]


def date_params() -> dict[str, Any]:
    # the non-extensive date search skips free-text date parsing, the slowest part of the date search
    return {"original_date": True, "extensive_search": False, "max_date": date.today().isoformat()}


def published(page: Page, url: str | None) -> str | None:
    try:
        return htmldate.find_date(page.tree, url=page.canonical or url, **date_params())
    except Exception as err:  # noqa: BLE001 - a date is metadata: its absence must not reject a page
        LOG.debug("no date for %s: %s", url, err)
        return None


def extract_meta(page: Page, url: str | None) -> Meta:
    """Title, authors, date and site name of a parsed page (after the structure layer)."""
    head = _head_meta(page)
    ld = _json_ld(page)
    site = head.get("site_name") or ld.get("site_name") or ld.get("org_name")
    if site:
        site = site.lstrip("@")
    elif page.canonical or url:
        host = urlsplit(page.canonical or url or "").hostname or ""
        site = host.removeprefix("www.") or None
    title = head.get("title") or ld.get("title") or _page_title(page, site)
    if title and site:  # "Headline | Site" in og:title too
        title = _without_site(title, site)
    authors = ld.get("authors") or (_split_authors(head["author"]) if head.get("author") else []) or _byline(page)
    return Meta(title=title, authors=list(dict.fromkeys(authors)), published=published(page, url), site_name=site)
