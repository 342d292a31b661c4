"""The parsed page: one lxml.html tree and what the structure layer and the metadata read from it.

The page is parsed once, with lxml.html's public parser. One walk over the tree collects what
the later steps look for: hidden (script/style/template) elements, links, buttons and inputs
for the structure layer, headlines and head fields for the metadata; one XPath call fetches the
naming attributes (class, id, …) that both the structure layer and the byline search read.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cached_property
from itertools import accumulate

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from .article import normalise

HIDDEN_TAGS = ("script", "style", "template")
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
CONTROL_TAGS = ("a", "button", "input")
BLOCK_TAGS = frozenset(
    "address article aside blockquote dd details dialog div dl dt fieldset figcaption figure footer form h1 h2 h3"
    " h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
# text of these is separated from its neighbours when read as a whole (audit trail, appeal reading)
SEPARATED_TAGS = BLOCK_TAGS | {"br", "button", "input", "option", "select", "textarea", "label", "img"}
_WALK_TAGS = (*HIDDEN_TAGS, *CONTROL_TAGS, "h1")
# attributes that name what an element is: the structure layer's appeal tokens, the metadata's bylines
NAMING_ATTRS = (
    "class", "id", "role", "aria-label", "aria-labelledby", "data-component", "data-testid", "data-module",
    "itemprop", "rel",
)  # fmt: skip
_ATTR_VALUES = etree.XPath(" | ".join(f"descendant-or-self::*/@{a}" for a in NAMING_ATTRS))
_ELEMENTS = etree.XPath("count(descendant::*)")

_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True, encoding="utf-8"
)
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>", re.IGNORECASE)
_SELF_CLOSED_HTML = re.compile(r"(<html\b[^>]*?)\s*/>", re.IGNORECASE)
_LANG = re.compile(r"^[A-Za-z]{2,3}")
_TITLE_SEP = re.compile(r"\s+[|–—:·•-]\s+|\s+::\s+")
_JSON_LD = ("application/ld+json", "application/json+ld")
_NORM_LEN = etree.XPath("string-length(normalize-space(.))")


def parse(text: str) -> HtmlElement | None:
    """The <html> element of `text` (a fragment gets <html><body> around it), or None if nothing parses.

    Two inputs libxml2 reads badly are mended first: a leading doctype (dropped: the tree does not
    need it) and a self-closed `<html .../>` start tag, after which libxml2 drops the whole page.
    """
    head = text[:4096]
    mended = _DOCTYPE.sub("", head, count=1)
    mended = _SELF_CLOSED_HTML.sub(r"\1>", mended, count=1)
    if mended is not head:
        text = mended + text[4096:]
    try:
        tree = lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    if tree is None or not isinstance(tree, HtmlElement):
        return None
    return tree


def readable_text(el: HtmlElement) -> str:
    """The text a reader sees in `el`, whitespace-normalised: no script/style, and block elements,
    line breaks and form controls separated from their neighbours ("…today. Donate", not "…today.Donate")."""
    parts: list[str] = []
    walker = etree.iterwalk(el, events=("start", "end"))
    for event, node in walker:
        tag = node.tag
        if event == "start":
            if tag in HIDDEN_TAGS:
                walker.skip_subtree()
                continue
            if tag in SEPARATED_TAGS:
                parts.append(" ")
            if node.text and isinstance(tag, str):
                parts.append(node.text)
            if tag == "input" and node.get("type") in ("submit", "button") and node.get("value"):
                parts.append(node.get("value"))
        else:
            if tag in SEPARATED_TAGS:
                parts.append(" ")
            if node is not el and node.tail:
                parts.append(node.tail)
    return " ".join("".join(parts).split())


class Page:
    """One parsed page. `tree` is the <html> element; the structure layer removes elements from it
    in place, and `live` tells whether an element collected by the walk is still in the page."""

    def __init__(self, tree: HtmlElement) -> None:
        self.tree = tree
        body = next(tree.iter("body"), None)
        self.body: HtmlElement = body if body is not None else tree
        self.hidden: list[HtmlElement] = []  # script/style/template in the body
        self.controls: list[HtmlElement] = []  # a/button/input in the body, document order
        self.h1: list[HtmlElement] = []
        self.link_len = 0  # text length of the body's links
        for el in self.body.iter(*_WALK_TAGS):
            tag = el.tag
            if tag in HIDDEN_TAGS:
                self.hidden.append(el)
            elif tag == "h1":
                self.h1.append(el)
            else:
                self.controls.append(el)
                if tag == "a":
                    self.link_len += len(" ".join((el.text or "" if len(el) == 0 else el.text_content()).split()))
        self.text_len = max(1, visible_len(self.body, self.hidden))  # before any removal
        head = next(tree.iter("head"), None)
        self.titles: list[str] = []  # <title> and og:title
        self.canonical: str | None = None
        self.head_meta: list[HtmlElement] = []  # <meta> elements of the head
        head_ld: list[HtmlElement] = []
        if head is not None:
            for el in head:
                tag = el.tag
                if tag == "meta":
                    self.head_meta.append(el)
                    if el.get("property") == "og:title" and el.get("content"):
                        self.titles.append(el.get("content"))
                elif tag == "title" and el.text:
                    self.titles.append(el.text)
                elif tag == "link" and el.get("rel") == "canonical" and self.canonical is None:
                    href = (el.get("href") or "").strip()
                    self.canonical = href or None
                elif tag == "script" and el.get("type") in _JSON_LD:
                    head_ld.append(el)
        # JSON-LD scripts, head first: the metadata reads them; trafilatura's baseline may use their articleBody
        self.json_ld = head_ld + [s for s in self.hidden if s.tag == "script" and s.get("type") in _JSON_LD]
        m = _LANG.match((tree.get("lang") or tree.get("xml:lang") or "").strip())
        self.language = m.group(0).lower() if m else None

    def slim(self) -> None:
        """Remove what no text is read from once the metadata is read: scripts (but JSON-LD, whose
        articleBody trafilatura's baseline may use), styles, templates, SVG, and the rest of the head.
        The extractor copies the page it is given and would drop these only after copying them."""
        for el in self.hidden:
            if el.get("type") not in _JSON_LD and el.getparent() is not None:
                el.drop_tree()  # lxml.html: the tail text stays
        etree.strip_elements(self.body, "svg", with_tail=False)
        head = next(self.tree.iter("head"), None)
        if head is not None:
            for el in list(head):
                if not (el.tag == "script" and el.get("type") in _JSON_LD):
                    head.remove(el)

    @classmethod
    def parse(cls, text: str) -> Page | None:
        tree = parse(text)
        return None if tree is None else cls(tree)

    def live(self, el: HtmlElement) -> bool:
        """Whether `el` is still in the page (the structure layer only removes elements)."""
        for a in el.iterancestors():
            if a is self.tree:
                return True
        return el is self.tree

    @cached_property
    def attr_values(self) -> list:
        """The values of NAMING_ATTRS in the page, document order, as read before any removal (lxml
        "smart" strings: `.getparent()` is the element)."""
        return _ATTR_VALUES(self.tree)

    def elements_with(self, pattern: re.Pattern[str]) -> list[HtmlElement]:
        """Elements still in the page (document order, each once) with a NAMING_ATTRS value in which
        `pattern` (lower case) finds a match in the lower-cased value.

        The values are searched joined in one string, so that only the few elements with a hit are
        looked at in Python: a page has thousands of class and id values."""
        values = self.attr_values
        if not values:
            return []
        joined = "\x00".join(values)
        low = joined.lower()
        if len(low) != len(joined):  # a few characters lower-case to two: offsets differ, test each value
            found = [v.getparent() for v in values if pattern.search(v.lower())]
        else:
            starts = list(accumulate((len(v) + 1 for v in values), initial=0))
            found, pos = [], 0
            while (m := pattern.search(low, pos)) is not None:
                k = bisect_right(starts, m.start()) - 1
                found.append(values[k].getparent())
                pos = starts[k + 1]  # the next value
        return [el for el in dict.fromkeys(found) if self.live(el)]

    @cached_property
    def h1_texts(self) -> list[str]:
        """The first three <h1> still in the page, as read."""
        return [" ".join(h.text_content().split()) for h in self.h1 if self.live(h)][:3]

    def headlines(self, title: str | None) -> set[str]:
        """Normalised forms the page's headline takes: metadata title, <title> parts, og:title, <h1>."""
        out = set()
        for c in (title or "", *self.titles, *self.h1_texts):
            out.add(normalise(c))
            out.update(normalise(part) for part in _TITLE_SEP.split(c) if len(part) >= 15)
        out.discard("")
        return out


def element_count(el: HtmlElement) -> int:
    """The number of elements under `el` (counted in C)."""
    return int(_ELEMENTS(el))


def visible_len(el: HtmlElement, hidden: list[HtmlElement] | None = None) -> int:
    """About len(readable_text(el)), computed in C: the normalised text length less that of hidden elements."""
    n = int(_NORM_LEN(el))
    for h in el.iter(*HIDDEN_TAGS) if hidden is None else hidden:
        n -= len(" ".join(h.text_content().split()))
    return max(n, 0)


def title_parts(text: str) -> list[str]:
    """`text` split at the separators of a "Headline | Site" title."""
    return _TITLE_SEP.split(text)
