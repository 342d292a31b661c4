"""Layer 1: remove appeal containers from the parsed page before trafilatura sees it.

Signals are generic: class/id/role/aria/data tokens (matched as whole tokens after splitting
on punctuation and camelCase, never as substrings), a heading followed by a call-to-action
button, e-mail sign-up forms, and the per-source XPath/CSS rules. Every candidate is guarded:
it must hold a small share of the page's text, may not contain the page's <h1>/<article>/
articleBody, and long candidates must also read like an appeal to the text detector (a
"paywall" or "subscriber-content" wrapper around the article body is not an appeal).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from lxml import etree
from lxml.html import HtmlElement

from . import signals
from .appeals import WEAK, is_button, score
from .article import Removal, clip
from .attrs import attr_values, elements_with
from .lexicons import attribute_tokens

# Class/id tokens of appeal containers, from the lexicons (cleaners/lexicons/*.yaml, `tokens`):
# a short container with a strong token is an appeal whatever its text says; with a weak one its
# text must also carry an appeal signal.
STRONG_TOKENS, WEAK_TOKENS = attribute_tokens()
APPEAL_TOKENS = STRONG_TOKENS | WEAK_TOKENS
_ATTRS = ("class", "id", "role", "aria-label", "aria-labelledby", "data-component", "data-testid", "data-module")
# by_tokens scans these on the whole page; itemprop and rel are for meta.extract_author
SCAN_ATTRS = (*_ATTRS, "itemprop", "rel")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
_PROTECTED_TAGS = frozenset({"html", "body", "main", "article", "head"})
_CTA_TAGS = ("button", "a", "input")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

MAX_SHARE = 0.35  # a structural candidate may hold at most this share of the page text
SHORT = 400  # below this many characters a token match alone is enough


@lru_cache(maxsize=4096)
def tokens(value: str) -> frozenset[str]:
    parts = [p for p in _SPLIT.split(_CAMEL.sub(" ", value).lower()) if p]
    pairs = {f"{a}-{b}" for a, b in zip(parts, parts[1:], strict=False)}
    if "sign-up" in pairs:
        pairs.add("signup")
    return frozenset(parts) | pairs


def _matching_token(el: HtmlElement) -> str | None:
    for attr in _ATTRS:
        value = el.get(attr)
        if value:
            hit = tokens(value) & APPEAL_TOKENS
            if hit:
                return f"{attr}={sorted(hit, key=lambda t: (t not in STRONG_TOKENS, t))[0]}"
    return None


_VISIBLE_TEXT = etree.XPath(".//text()[not(ancestor::script or ancestor::style or ancestor::template)]")


_HIDDEN_TAGS = ("script", "style", "template")
_NORM_LEN = etree.XPath("string-length(normalize-space(.))")
# substring prefilter for attribute values (lower-cased); the token match decides
_ATTR_HINTS = tuple(sorted({t.split("-")[0][:4] for t in STRONG_TOKENS | WEAK_TOKENS}))
_ATTR_HINTS = tuple(h for h in _ATTR_HINTS if not any(o != h and o in h for o in _ATTR_HINTS))


def _has_hidden(el: HtmlElement) -> bool:
    return any(True for _ in el.iter(*_HIDDEN_TAGS))


def _text(el: HtmlElement) -> str:
    """Readable text (no script/style), whitespace-normalised."""
    if not _has_hidden(el):
        return " ".join(el.text_content().split())
    return " ".join(" ".join(_VISIBLE_TEXT(el)).split())


def _text_len(el: HtmlElement, hidden: list[HtmlElement] | None = None) -> int:
    """len(_text(el)), computed mostly in C (the page body is large). `hidden`: el.iter(*_HIDDEN_TAGS)."""
    n = int(_NORM_LEN(el))
    for h in el.iter(*_HIDDEN_TAGS) if hidden is None else hidden:
        n -= len(" ".join(h.text_content().split()))
    return max(n, 0)


# elements the metadata and headline steps search the whole page for (see PageIndex)
INDEX_TAGS = ("head", "link", "h1", "script", "author", "rel")
_WALK_TAGS = tuple(dict.fromkeys((*_HIDDEN_TAGS, *_CTA_TAGS, *INDEX_TAGS)))


def _plain_page(tree: HtmlElement, body: HtmlElement, kids: list[HtmlElement]) -> bool:
    """`tree` is its document's only root element, an <html> whose element children are `body`
    and <head>s: walking the children covers every element an absolute `//x` search can find."""
    return (
        tree.tag == "html"
        and tree.getparent() is None
        and body in kids
        and all(k is body or k.tag == "head" for k in kids)
        and not any(isinstance(s.tag, str) for s in (*tree.itersiblings(), *tree.itersiblings(preceding=True)))
    )


def first_body(tree: HtmlElement) -> HtmlElement | None:
    """tree.find(".//body") without walking the body: lxml's iterator looks ahead for a next match."""
    for child in tree:  # document order: a child, then its descendants, then the next child
        if child.tag == "body":
            return child
        found = next(child.iterdescendants("body"), None)
        if found is not None:
            return found
    return None


_HAS_MAIN = etree.XPath("boolean(.//h1|.//article|.//*[@itemprop='articleBody'])")


def _protected(el: HtmlElement) -> bool:
    if el.tag in _PROTECTED_TAGS:
        return True
    if el.get("itemprop") == "articleBody":
        return True
    return _HAS_MAIN(el)


def _appeal_share(text: str) -> float:
    """Share of the text (by characters) in sentences where the text detector sees appeal signals."""
    chunks = [c for c in re.split(r"(?<=[.!?])\s+", text) if c]
    total = sum(len(c) for c in chunks) or 1
    return sum(len(c) for c in chunks if score(c).score >= WEAK) / total


def _reads_like_appeal(text: str, strong: bool) -> bool:
    if strong and len(text) < SHORT:
        return True
    # generic token or long container: the text detector must agree on a good part of it, so
    # a "newsletter"/"paywall" wrapper around real content is kept
    return len(text) < 3000 and _appeal_share(text) >= 0.3


def _button_label(label: str) -> bool:
    return is_button(label)  # every lexicon language; gated on the lexicons' words


_button_label_cached = lru_cache(maxsize=4096)(_button_label)  # menus repeat from page to page


def _cta_text(el: HtmlElement) -> bool:
    label = el.get("value") if el.tag == "input" else el.text_content()
    label = label or el.get("aria-label") or ""
    return _button_label_cached(label) if len(label) <= 200 else _button_label(label)


class PageIndex:
    """Answers to whole-page searches made after the structure layer, from its walk of the page:
    the elements found then, less those it removed since (the layer only removes elements)."""

    def __init__(self, found: dict[str, list[HtmlElement]], gone: Callable[[HtmlElement], bool]) -> None:
        self.found = found
        self.gone = gone

    def live(self, tag: str) -> list[HtmlElement]:
        """tree.xpath(f"//{tag}") now, for a tag of INDEX_TAGS (document order)."""
        return [el for el in self.found[tag] if not self.gone(el)]

    def head_children(self) -> list[HtmlElement]:
        """tree.xpath("//head/*") now (the parser keeps no comments)."""
        heads = self.live("head")
        return list(heads[0]) if heads else []


class Pruner:
    """Collects removals for one page; `page_len` is the text length of the whole body."""

    def __init__(self, tree: HtmlElement) -> None:
        self.tree = tree
        self.values: list | None = None  # attr_values(tree, SCAN_ATTRS), set by by_tokens
        body = first_body(tree)
        self.root = body if body is not None else tree
        # one walk of the page for what three steps need: hidden text (page_len), buttons and links
        # (by_heading_cta) and inputs (by_email_form); the later steps skip what was removed since
        hidden: list[HtmlElement] = []
        self.ctas: list[HtmlElement] = []
        self.index = self._walk(hidden)
        self.page_len = max(1, _text_len(self.root, hidden))
        self.removed: list[Removal] = []
        self.dropped: set[HtmlElement] = set()

    def _walk(self, hidden: list[HtmlElement]) -> dict[str, list[HtmlElement]] | None:
        """Fill `hidden` and `self.ctas` from the body; on a page made of <html> with <head> and
        <body> children only, the same walk also gives the page index (see PageIndex)."""
        kids = [c for c in self.tree if isinstance(c.tag, str)]
        if not _plain_page(self.tree, self.root, kids):
            for el in self.root.iter(*_HIDDEN_TAGS, *_CTA_TAGS):
                (hidden if el.tag in _HIDDEN_TAGS else self.ctas).append(el)
            return None
        index: dict[str, list[HtmlElement]] = {tag: [] for tag in INDEX_TAGS}
        for kid in kids:  # document order
            in_body = kid is self.root
            for el in kid.iter(*_WALK_TAGS):
                tag = el.tag
                if tag in index:
                    index[tag].append(el)
                if in_body and tag in _HIDDEN_TAGS:
                    hidden.append(el)
                elif in_body and tag in _CTA_TAGS:
                    self.ctas.append(el)
        return index if len(index["head"]) <= 1 else None

    def page_index(self) -> PageIndex | None:
        return None if self.index is None else PageIndex(self.index, self._gone)

    def _gone(self, el: HtmlElement) -> bool:
        """Already removed, itself or with an ancestor."""
        return el in self.dropped or any(a in self.dropped for a in el.iterancestors())

    def _drop(self, el: HtmlElement, rule: str, text: str | None = None) -> None:
        text = _text(el) if text is None else text
        self.dropped.add(el)
        if text:
            self.removed.append(Removal(clip(text), rule, "structure"))
        parent = el.getparent()
        if parent is None:
            return
        # keep the tail text: it belongs to the parent, not to the removed element
        if el.tail and el.tail.strip():
            prev = el.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)

    def _guarded(self, el: HtmlElement) -> str | None:
        """Text of the candidate if it may be removed, else None."""
        if _protected(el):
            return None
        text = _text(el)
        if len(text) > MAX_SHARE * self.page_len and len(text) > SHORT:
            return None
        return text

    def by_tokens(self) -> None:
        # one attribute scan of the whole page, kept for the metadata's author search
        self.values = attr_values(self.tree, SCAN_ATTRS)
        for el in elements_with(self.tree, SCAN_ATTRS, _ATTR_HINTS, fold=True, values=self.values):
            if not isinstance(el, HtmlElement) or el.getparent() is None or self._gone(el):
                continue
            if el is not self.root and self.root not in el.iterancestors():
                continue  # <head>
            hit = _matching_token(el)
            if hit is None:
                continue
            text = self._guarded(el)
            strong = hit.split("=", 1)[1] in STRONG_TOKENS
            if text is None or not _reads_like_appeal(text, strong):
                continue
            self._drop(el, f"structure:token:{hit}", text)

    def by_heading_cta(self) -> None:
        check = _button_label_cached
        for btn in self.ctas:  # collected before any removal: the removed ones fail the _gone test
            # _cta_text(btn), inlined: this loop sees every link of the page
            if btn.tag == "input":
                label = btn.get("value")
            else:  # the text_content() of an element without children is its text
                label = btn.text if len(btn) == 0 else btn.text_content()
            label = label or btn.get("aria-label") or ""
            if not (check(label) if len(label) <= 200 else _button_label(label)):
                continue
            if btn.getparent() is None or self._gone(btn):
                continue
            container = btn.getparent()
            for _ in range(4):
                if container is None or container.tag in _PROTECTED_TAGS:
                    break
                has_heading = any(e.tag in _HEADINGS for e in container.iter(*_HEADINGS))
                if has_heading:
                    text = self._guarded(container)
                    # a small box around a heading and a call-to-action button is an appeal by shape
                    if text is not None and (len(text) < 300 or (len(text) < 800 and _appeal_share(text) >= 0.3)):
                        self._drop(container, "structure:heading+cta", text)
                    break
                container = container.getparent()

    def by_email_form(self) -> None:
        # root.xpath(".//input[@type='email']") now, from the inputs collected before any removal
        inputs = [
            el
            for el in self.ctas
            if el.tag == "input" and el.get("type") == "email" and el is not self.root and not self._gone(el)
        ]
        for inp in inputs:
            form = next((a for a in inp.iterancestors() if a.tag == "form"), None)
            target = form if form is not None else inp.getparent()
            if target is None or target.getparent() is None or self._gone(target):
                continue
            # take the form's wrapper too when it only adds a heading/blurb
            wrapper = target.getparent()
            if wrapper is not None and wrapper.tag not in _PROTECTED_TAGS and len(_text(wrapper)) < 600:
                target = wrapper
            text = self._guarded(target)
            if text is not None and len(text) < 1200:
                self._drop(target, "structure:email-form", text)

    def by_signals(self) -> None:
        """Language-independent signals (cleaners/signals.py): boxes leading to appeal endpoints."""
        for el, rule in signals.candidates(self.ctas, _text_len, _protected):
            if el.getparent() is not None and not self._gone(el) and (text := self._guarded(el)) is not None:
                self._drop(el, rule, text)

    def by_rules(self, rules: Mapping[str, Iterable[str]]) -> None:
        """Per-source rules are trusted configuration: no share guard, but still recorded."""
        for expr in _as_list(rules.get("prune_xpath")):
            self._apply(expr, expr, "xpath")
        css = _as_list(rules.get("prune_css"))
        if css:
            from cssselect import GenericTranslator
            from cssselect.parser import SelectorError

            for sel in css:
                try:
                    xpath = GenericTranslator().css_to_xpath(sel, prefix="descendant-or-self::")
                except SelectorError:
                    self.removed.append(Removal("", f"source:css:invalid:{sel}", "structure"))
                    continue
                self._apply(xpath, sel, "css")

    def _apply(self, xpath: str, label: str, kind: str) -> None:
        try:
            found = self.root.getroottree().getroot().xpath(xpath)
        except (etree.XPathError, ValueError):
            self.removed.append(Removal("", f"source:{kind}:invalid:{label}", "structure"))
            return
        for el in found:
            if (
                isinstance(el, HtmlElement)
                and el.getparent() is not None
                and el.tag not in ("html", "body")
                and not self._gone(el)
            ):
                self._drop(el, f"source:{kind}:{label}")


def _as_list(value: object) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def prune(tree: HtmlElement, rules: Mapping[str, Iterable[str]] | None = None) -> Pruner:
    """Remove appeal containers from `tree` in place; `.removed` lists them, `.page_len` is the
    page's text length before removal."""
    p = Pruner(tree)
    if rules:
        p.by_rules(rules)
    p.by_tokens()
    p.by_heading_cta()
    p.by_email_form()
    p.by_signals()
    return p
