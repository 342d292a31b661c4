"""More article fields from the page's metadata: lead image, section, keywords/tags, modification date, and what
the JSON-LD article declares about itself (free access, word count, body length) for the access check.

Rules as data: each field lists the head meta keys it is read from (first in the list wins) and the JSON-LD
Article property; the head's meta tags are trusted before JSON-LD, as in `meta.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .meta import ARTICLE_TYPES, _json_objects, _types
from .page import Page

MAX_KEYWORDS = 40  # a longer list is an SEO dump, not the article's tags
MAX_KEYWORD = 80
MAX_VALUE = 2000

# field -> head <meta> keys (name, property or itemprop, lower case), in order of trust
HEAD_KEYS: dict[str, tuple[str, ...]] = {
    "image_url": ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"),
    "section": ("article:section", "parsely-section", "sailthru.section", "section"),
    "keywords": ("article:tag", "news_keywords", "keywords", "parsely-tags", "sailthru.tags"),
    "modified": (
        "article:modified_time", "og:updated_time", "datemodified", "dcterms.modified",
        "last-modified", "lastmod",
    ),
}  # fmt: skip
# field -> JSON-LD Article property
LD_KEYS = {"image_url": "image", "section": "articleSection", "keywords": "keywords", "modified": "dateModified"}
RIGHTS_META = ("robots", "tdm-reservation", "tdm-policy")  # read as declared; ingest/rights.py judges them
_HEAD = {key.lower(): name for name, keys in HEAD_KEYS.items() for key in keys}


@dataclass
class Extra:
    image_url: str | None = None
    section: str | None = None
    keywords: list[str] = field(default_factory=list)
    modified: str | None = None
    # what the JSON-LD article says of itself (the access check reads these)
    free: bool | None = None  # isAccessibleForFree
    word_count: int | None = None  # wordCount
    body_words: int | None = None  # words of articleBody
    rights: dict[str, str] = field(default_factory=dict)  # <meta> values of RIGHTS_META (repeated ones joined)


def _text(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value if 0 < len(value) <= MAX_VALUE else None


def _image(value: Any, base: str | None) -> str | None:
    """An http(s) URL from a string, an ImageObject ({url} or {contentUrl}) or a list of them (the first)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    url = _text(value)
    if not url:
        return None
    url = urljoin(base or "", url)
    return url if urlsplit(url).scheme in ("http", "https") else None


def _keywords(values: list[Any]) -> list[str]:
    """Tags from meta values or JSON-LD keywords (a comma-separated string or a list), each once."""
    out: dict[str, str] = {}
    for value in values:
        parts = value if isinstance(value, list) else str(value).split(",") if isinstance(value, str) else []
        for part in parts:
            tag = _text(part) if isinstance(part, str) else None
            if tag and len(tag) <= MAX_KEYWORD:
                out.setdefault(tag.casefold(), tag)
            if len(out) >= MAX_KEYWORDS:
                return list(out.values())
    return list(out.values())


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _count(value: Any) -> int | None:
    try:
        n = int(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return n if n > 0 else None


def article_objects(page: Page) -> list[dict]:
    """The schema.org Article objects (and its kinds) in the page's JSON-LD, in document order."""
    found = []
    for script in page.json_ld:
        try:
            objects = list(_json_objects(json.loads(script.text or "", strict=False)))
        except (ValueError, RecursionError):
            continue
        found += [o for o in objects if _types(o) & ARTICLE_TYPES]
    return found


def extract_extra(page: Page, url: str | None) -> Extra:
    """The extra fields of a parsed page (read before the structure layer changes nothing of the head)."""
    base = page.canonical or url
    head: dict[str, list[str]] = {}
    for el in page.head_meta:
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        name = _HEAD.get(key)
        value = el.get("content")
        if not isinstance(value, str) or not value.strip():
            continue
        if name:
            head.setdefault(name + ":" + key, []).append(value)
        elif key in RIGHTS_META:
            head.setdefault("rights:" + key, []).append(" ".join(value.split())[:MAX_VALUE])

    def first(name: str) -> list[str]:
        for key in HEAD_KEYS[name]:
            if head.get(f"{name}:{key.lower()}"):
                return head[f"{name}:{key.lower()}"]
        return []

    extra = Extra()
    extra.rights = {key: ", ".join(head["rights:" + key]) for key in RIGHTS_META if head.get("rights:" + key)}
    articles = article_objects(page)
    ld = {name: next((o[prop] for o in articles if o.get(prop)), None) for name, prop in LD_KEYS.items()}
    extra.image_url = next((_image(v, base) for v in first("image_url")), None) or _image(ld["image_url"], base)
    extra.section = _text(next(iter(first("section")), None)) or _text(
        ld["section"][0] if isinstance(ld["section"], list) and ld["section"] else ld["section"]
    )
    tags = [v for key in HEAD_KEYS["keywords"] for v in head.get(f"keywords:{key}", [])]
    extra.keywords = _keywords(tags) or _keywords([ld["keywords"]] if ld["keywords"] else [])
    extra.modified = _text(next(iter(first("modified")), None)) or _text(ld["modified"])
    for obj in articles:
        if extra.free is None:
            extra.free = _flag(obj.get("isAccessibleForFree"))
        parts = obj.get("hasPart")
        for part in parts if isinstance(parts, list) else [parts]:
            if isinstance(part, dict) and _flag(part.get("isAccessibleForFree")) is False:
                extra.free = False  # Google's paywalled-content markup: a part of the article is not free
        if extra.word_count is None:
            extra.word_count = _count(obj.get("wordCount"))
        body = obj.get("articleBody")
        if extra.body_words is None and isinstance(body, str) and body.strip():
            extra.body_words = len(body.split())
    return extra
