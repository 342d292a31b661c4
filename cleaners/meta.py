"""Article metadata: the fields of `Article` that trafilatura's `extract_metadata` would give.

Same sources, order and results as trafilatura 2.3.1's `extract_metadata` (meta tags, then
JSON-LD, then the page; date by htmldate), but only for the fields an `Article` has: categories,
tags and licence are not looked for. The page-wide author search (run when meta tags and JSON-LD
name no author) tests trafilatura's author expressions, with the same regular expressions, on the
few elements whose attributes can match them, instead of EXSLT `re:test` calls on every element
of a copy of the page; the JSON-LD text is prepared with faster, equivalent steps.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from typing import TYPE_CHECKING, Any

import htmldate
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.json_metadata import (
    JSON_UNICODE_REPLACE,
    extract_json,
    extract_json_parse_error,
    normalize_authors,
)
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_sitename,
    extract_title,
    extract_url,
    find_date,
)
from trafilatura.utils import HTML_STRIP_TAGS, line_processing, trim
from trafilatura.xml import delete_element

from .attrs import elements_with

if TYPE_CHECKING:
    from .structure import PageIndex

LOG = logging.getLogger(__name__)
# htmldate 1.11.0's find_date reads a canonical link only when given no URL, and uses the URL only
# for a date pattern ("" finds none, as None): with that version the page index does the reading
_DATE_URL_FROM_INDEX = getattr(htmldate, "__version__", None) == "1.11.0"
_LANG = re.compile(r"^[A-Za-z]{2,3}")
_CANONICAL = etree.XPath("//head/link[@rel='canonical']/@href")
_AUTHOR_SPLIT = re.compile(r";|\band\b")


# trafilatura.xpaths.AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS as Python predicates, with the
# same regular expressions, applied only to elements whose attributes contain one of _NEEDLES
_ATTRS = ("class", "id", "itemprop", "rel", "data-testid", "data-component")
# every author expression needs one of these in one of _ATTRS (case-sensitive, like the XPaths)
_NEEDLES = (
    "uthor", "yline", "sername", "byl", "BBL", "zuozhe", "bianji", "xiaobian", "channel-name",
    "submitted-by", "posted-by", "journalist-name", "creenname", "riter",
)  # fmt: skip
_TAGS_0 = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_TAGS_1 = frozenset({"a", "div", "h3", "h4", "p", "span"})
_CLASS_0 = re.compile("author-?name|AuthorName|authorName")
_ID_1 = re.compile("author|zuozhe|bianji|xiaobian")
_CLASS_1 = re.compile("author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
_ID_2 = re.compile("[Aa]uthor")
_CLASS_2 = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)"
    "|print|category|meta-date|meta-reviewer"
)


def _rule_0(el: HtmlElement) -> bool:
    if el.tag not in _TAGS_0:
        return False
    g = el.get
    return (
        g("rel") == "author"
        or g("id") == "author"
        or g("class") == "author"
        or g("itemprop") == "author name"
        or g("data-testid") in ("AuthorCard", "AuthorURL")
        or _CLASS_0.search(g("class") or "") is not None
    )


def _rule_1(el: HtmlElement) -> bool:
    if el.tag not in _TAGS_1:
        return False
    g = el.get
    return (
        g("class") in ("byline", "username", "byl", "BBL")
        or "author" in (g("itemprop") or "")
        or _ID_1.search(g("id") or "") is not None
        or _CLASS_1.search(g("class") or "") is not None
    )


def _rule_2(el: HtmlElement) -> bool:
    g = el.get
    return (
        "Byline" in (g("data-component") or "")
        or "author" in (g("itemprop") or "")
        or _ID_2.search(g("id") or "") is not None
        or _CLASS_2.search(g("class") or "") is not None
    )


def _discarded(el: HtmlElement) -> bool:
    tag = el.tag
    if tag in ("time", "figure"):
        return True
    if tag not in _DISCARD_TAGS:
        return False
    g = el.get
    i, c = g("id") or "", g("class") or ""
    return (
        i == "comments"
        or c in ("comments", "title", "date")
        or _DISCARD_ID.search(i) is not None
        or _DISCARD_CLASS.search(c) is not None
        or "Figure" in (g("data-component") or "")
    )


def _pruned_text(el: HtmlElement) -> str:
    """Text of `el` as it reads once the discarded elements inside it are deleted (tails kept)."""
    if any(_discarded(d) for d in el.iterdescendants()):
        copy = deepcopy(el)
        doomed = [c for o, c in zip(el.iter(), copy.iter(), strict=True) if o is not el and _discarded(o)]
        for c in doomed:
            delete_element(c)
        el = copy
    return trim(" ".join(el.itertext()))


def extract_author(
    tree: HtmlElement,
    values: list | None = None,
    gone: Callable[[HtmlElement], bool] | None = None,
    index: PageIndex | None = None,
) -> str | None:
    """trafilatura.metadata.extract_author (which prunes a copy of the page with AUTHOR_DISCARD_XPATHS,
    then reads the first AUTHOR_XPATHS match of a plausible length), without the copy and without
    testing every element against regular expressions."""
    if index is not None:
        named = bool(index.live("author") or index.live("rel"))
    else:
        named = tree.find(".//author") is not None or tree.find(".//rel") is not None
    if named:
        return _trafilatura_author(tree)  # element-name alternatives of the XPaths: rare, exact path
    # the XPaths test the root element too; `values`/`gone`: an attribute scan made before the
    # structure layer removed the elements `gone` tells
    cands = list(dict.fromkeys([tree, *elements_with(tree, _ATTRS, _NEEDLES, values=values)]))
    if gone is not None:
        cands = [el for el in cands if not gone(el)]
    for rule in (_rule_0, _rule_1, _rule_2):
        for el in cands:
            if not rule(el) or _discarded(el) or any(_discarded(a) for a in el.iterancestors()):
                continue  # not a match, or not in the pruned page
            content = _pruned_text(el)
            if content and 2 < len(content) < 120:
                return normalize_authors(None, content)
    return None


def _trafilatura_author(tree: HtmlElement) -> str | None:
    from trafilatura.metadata import extract_author as traf_extract_author

    return traf_extract_author(tree)


# trafilatura.metadata.JSON_MINIFY = ("(?:\\.|[^"\\])*")|\s with sub(r"\1"): strings kept, whitespace outside
# them dropped; matching whitespace runs instead of single characters gives the same text
_JSON_MINIFY = re.compile(r'("(?:\\.|[^"\\])*")|\s+')
_SURROGATES = re.compile("[\ud800-\udfff]")
_JSON_TYPES = ("application/ld+json", "application/settings+json")
_JSON_SCRIPTS = etree.XPath(f'.//script[@type="{_JSON_TYPES[0]}" or @type="{_JSON_TYPES[1]}"]')


def _normalize_json(string: str) -> str:
    """trafilatura.json_metadata.normalize_json with the per-character surrogate filter as a regex."""
    if "\\" in string:
        string = string.replace("\\n", "").replace("\\r", "").replace("\\t", "")
        string = JSON_UNICODE_REPLACE.sub(lambda match: chr(int(match[1], 16)), string)
        string = _SURROGATES.sub("", string)
        string = unescape(string)
    return trim(HTML_STRIP_TAGS.sub("", string))


def _meta_json(tree: HtmlElement, metadata: Any, index: PageIndex | None = None) -> Any:
    """trafilatura.metadata.extract_meta_json, with faster exact text preparation."""
    if index is None:
        scripts = _JSON_SCRIPTS(tree)
    else:
        scripts = [el for el in index.live("script") if el.get("type") in _JSON_TYPES]
    for elem in scripts:
        if not elem.text:
            continue
        # == _JSON_MINIFY.sub(r"\1", text): split yields the kept strings without a Python call per match
        element_text = _normalize_json("".join(filter(None, _JSON_MINIFY.split(elem.text))))
        try:
            schema = json.loads(element_text, strict=False)
            metadata = extract_json(schema, metadata)
        except json.JSONDecodeError:
            metadata = extract_json_parse_error(element_text, metadata)
    return metadata


@dataclass
class Meta:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    language: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "authors": self.authors,
            "published_at": self.published_at,
            "language": self.language,
            "site_name": self.site_name,
            "canonical_url": self.canonical_url,
        }


def date_params() -> dict[str, Any]:
    # the non-extensive date search skips free-text date parsing, the slowest part of metadata
    return {"original_date": True, "extensive_search": False, "max_date": date.today().isoformat()}


def extract_meta(
    tree: HtmlElement,
    url: str | None,
    values: list | None = None,
    gone: Callable[[HtmlElement], bool] | None = None,
    index: PageIndex | None = None,
) -> Meta:
    """Title, authors, date, language, site name and canonical URL of a parsed page. `values` and
    `gone`: see extract_author (the structure layer's attribute scan, reused); `index`: the
    structure layer's, for the page-wide searches."""
    page = tree
    if any(isinstance(s.tag, str) for s in (*tree.itersiblings(), *tree.itersiblings(preceding=True))):
        # more than one root element (broken markup): trafilatura reads a copy of the first only
        page, values, gone, index = deepcopy(tree), None, None, None
    doc = _trafilatura_fields(page, url, values, gone, index)
    lang = tree.get("lang") or tree.get("xml:lang") or ""
    m = _LANG.match(lang.strip())
    if index is None:
        canon = _CANONICAL(tree)
    else:
        canon = [el.get("href") for el in index.head_children() if el.tag == "link" and el.get("rel") == "canonical"]
        canon = [href for href in canon if href is not None]
    return Meta(
        title=doc.title,
        authors=[a.strip() for a in _AUTHOR_SPLIT.split(doc.author or "") if a.strip()],
        published_at=doc.date,
        language=m.group(0).lower() if m else None,
        site_name=doc.sitename,
        canonical_url=canon[0].strip() if canon else None,
    )


def _trafilatura_fields(
    tree: HtmlElement,
    url: str | None,
    values: list | None,
    gone: Callable[[HtmlElement], bool] | None,
    index: PageIndex | None = None,
) -> Any:
    """trafilatura.metadata.extract_metadata, for title, author, date and site name only."""
    doc = examine_meta(tree)
    if doc.author and " " not in doc.author:
        doc.author = None
    try:
        doc = _meta_json(tree, doc, index)
    except Exception as err:  # noqa: BLE001 - as trafilatura: bad JSON-LD only loses its fields
        LOG.debug("error in JSON metadata extraction: %s", err)
    if not doc.title:
        doc.title = extract_title(tree)
    if not doc.author:
        doc.author = extract_author(tree, values, gone, index)
    if not doc.url:
        doc.url = extract_url(tree, url)
    params = date_params()
    params["url"] = doc.url
    if doc.url is None and index is not None and _DATE_URL_FROM_INDEX:
        # find_date's own search for a canonical link (its href, or no URL: "" reads as None)
        links = (el.get("href") for el in index.live("link") if el.get("rel") == "canonical")
        params["url"] = next(links, None) or ""
    doc.date = find_date(tree, **params)
    if not doc.sitename:
        doc.sitename = extract_sitename(tree)
    if doc.sitename:
        doc.sitename = doc.sitename.lstrip("@")
        if doc.sitename and "." not in doc.sitename and not doc.sitename[0].isupper():
            doc.sitename = doc.sitename.title()
    elif doc.url:
        m = META_URL.match(doc.url)
        if m:
            doc.sitename = m[1]
    for name in ("title", "author", "date", "sitename"):  # Document.clean_and_trim, for these fields
        value = getattr(doc, name)
        if isinstance(value, str):
            if len(value) > 10000:
                value = value[:9999] + "…"
            setattr(doc, name, line_processing(unescape(value)))
    return doc
