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
from collections.abc import Iterable, Mapping
from functools import lru_cache

from lxml import etree
from lxml.html import HtmlElement

from newsconfig.sources import CleaningRules, compile_cleaning

from . import signals
from .appeals import WEAK, is_button, score
from .article import Removal, clip
from .lexicons import attribute_tokens
from .page import HEADING_TAGS, Page, readable_text, visible_len

# Class/id tokens of appeal containers, from the lexicons (cleaners/lexicons/*.yaml, `tokens`):
# a short container with a strong token is an appeal whatever its text says; with a weak one its
# text must also carry an appeal signal.
STRONG_TOKENS, WEAK_TOKENS = attribute_tokens()
APPEAL_TOKENS = STRONG_TOKENS | WEAK_TOKENS
_ATTRS = ("class", "id", "role", "aria-label", "aria-labelledby", "data-component", "data-testid", "data-module")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
_PROTECTED_TAGS = frozenset({"html", "body", "main", "article", "head"})

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




def _attribute_hints(tokens: frozenset[str]) -> re.Pattern[str]:
    """A substring prefilter for attribute values (lower-cased): the first four letters of each token's first
    part, minus those that contain another; the token match decides."""
    roots = {t.split("-")[0][:4] for t in tokens}
    roots = {r for r in roots if not any(o != r and o in r for o in roots)}
    return re.compile("|".join(sorted(map(re.escape, roots))))


_ATTR_HINTS = _attribute_hints(APPEAL_TOKENS)


def _text_len(el: HtmlElement) -> int:
    return visible_len(el)


_HAS_MAIN = etree.XPath("boolean(.//h1|.//article|.//*[@itemprop='articleBody'])")


def _protected(el: HtmlElement) -> bool:
    if el.tag in _PROTECTED_TAGS:
        return True
    if el.get("itemprop") == "articleBody":
        return True
    return _HAS_MAIN(el)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _appeal_share(text: str) -> float:
    """Share of the text (by characters) in sentences where the text detector sees appeal signals."""
    chunks = [c for c in _SENTENCE_END.split(text) if c]
    total = sum(len(c) for c in chunks) or 1
    return sum(len(c) for c in chunks if score(c).score >= WEAK) / total


def _reads_like_appeal(text: str, strong: bool) -> bool:
    if strong and len(text) < SHORT:
        return True
    # generic token or long container: the text detector must agree on a good part of it, so
    # a "newsletter"/"paywall" wrapper around real content is kept
    return len(text) < 3000 and _appeal_share(text) >= 0.3


@lru_cache(maxsize=4096)  # menus repeat from page to page
def _button_label(label: str) -> bool:
    return is_button(label)  # every lexicon language; gated on the lexicons' words


def _control_label(el: HtmlElement) -> str:
    if el.tag == "input":
        label = el.get("value")
    else:  # the text_content() of an element without children is its text
        label = el.text if len(el) == 0 else el.text_content()
    return label or el.get("aria-label") or ""


class Pruner:
    """Collects removals for one page; `page_len` is the text length of the whole body before removal."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.tree = page.tree
        self.root = page.body
        self.page_len = page.text_len
        self.removed: list[Removal] = []

    def _drop(self, el: HtmlElement, rule: str, text: str | None = None) -> None:
        text = readable_text(el) if text is None else text
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
        limit = MAX_SHARE * self.page_len
        if _text_len(el) > max(limit, SHORT):  # too large: not worth reading
            return None
        text = readable_text(el)
        if len(text) > limit and len(text) > SHORT:
            return None
        return text

    def by_tokens(self) -> None:
        for el in self.page.elements_with(_ATTR_HINTS):
            if not isinstance(el, HtmlElement) or el.getparent() is None or el is self.tree:
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
        for btn in self.page.controls:  # collected before any removal: the removed ones are not live
            label = _control_label(btn)
            if len(label) > 200 or not _button_label(label):
                continue
            if btn.getparent() is None or not self.page.live(btn):
                continue
            container = btn.getparent()
            for _ in range(4):
                if container is None or container.tag in _PROTECTED_TAGS:
                    break
                if next(container.iter(*HEADING_TAGS), None) is not None:
                    text = self._guarded(container)
                    # a small box around a heading and a call-to-action button is an appeal by shape
                    if text is not None and (len(text) < 300 or (len(text) < 800 and _appeal_share(text) >= 0.3)):
                        self._drop(container, "structure:heading+cta", text)
                    break
                container = container.getparent()

    def by_email_form(self) -> None:
        inputs = [el for el in self.page.controls if el.tag == "input" and el.get("type") == "email"]
        for inp in inputs:
            if not self.page.live(inp):
                continue
            form = next((a for a in inp.iterancestors() if a.tag == "form"), None)
            target = form if form is not None else inp.getparent()
            if target is None or target.getparent() is None or target is self.root:
                continue
            # take the form's wrapper too when it only adds a heading/blurb
            wrapper = target.getparent()
            if wrapper is not None and wrapper.tag not in _PROTECTED_TAGS and _text_len(wrapper) < 600:
                target = wrapper
            text = self._guarded(target)
            if text is not None and len(text) < 1200:
                self._drop(target, "structure:email-form", text)

    def by_signals(self) -> None:
        """Language-independent signals (cleaners/signals.py): boxes leading to appeal endpoints."""
        for el, rule in signals.candidates(self.page.controls, _text_len, _protected):
            if el.getparent() is not None and self.page.live(el) and (text := self._guarded(el)) is not None:
                self._drop(el, rule, text)

    def by_rules(self, rules: CleaningRules) -> None:
        """Per-source rules are trusted configuration: no share guard, but still recorded."""
        for rule in rules.selectors:
            for el in rule.select(self.tree):
                if (
                    isinstance(el, HtmlElement)
                    and el.getparent() is not None
                    and el.tag not in ("html", "body", "head")
                    and self.page.live(el)
                ):
                    self._drop(el, f"source:{rule.kind}:{rule.expression}")


def prune(tree: HtmlElement | Page, rules: Mapping[str, Iterable[str]] | CleaningRules | None = None) -> Pruner:
    """Remove appeal containers from the page in place; `.removed` lists them, `.page_len` is the
    page's text length before removal. `rules`: per-source `prune_xpath` / `prune_css`."""
    page = tree if isinstance(tree, Page) else Page(tree)
    p = Pruner(page)
    compiled = rules if isinstance(rules, CleaningRules) else compile_cleaning(rules or {})
    if compiled.selectors:
        p.by_rules(compiled)
    p.by_tokens()
    p.by_heading_cta()
    p.by_email_form()
    p.by_signals()
    return p
