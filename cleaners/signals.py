"""Language-independent appeal signals in the page: what an appeal box does, not its words.

An appeal sends the reader somewhere: to a donation, payment, membership, subscription or
newsletter endpoint, to an app store, or to a paywall vendor's checkout. Those targets look
alike in every language: vendor hosts (`donorbox.org`, `patreon.com`, `apps.apple.com`,
`list-manage.com` …) and path words (`/donate`, `/spenden`, `/abonnement`, `/membership`,
`/newsletter` …). A small box whose links, buttons or form action lead there, with a short
call-to-action label, is an appeal whatever language its text is in; a dismiss control beside it
(a close button, `data-dismiss`) says the same of a pop-up.

Position matters: inside the article body (`<article>`, `itemprop=articleBody`) a link to a
donation page is often news ("the charity's donation page crashed"), so there the box must be
a box (not a paragraph of the story) and its label short. `candidates` proposes containers; the
structure layer guards and drops them (`Pruner.by_signals`). Every rule name says which signal
fired: `signal:endpoint:<kind>`, `signal:vendor:<kind>`, `signal:dismiss+endpoint`.

No rule names a publisher: the hosts are vendors many publishers use, the paths generic words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from lxml.html import HtmlElement

# Signals on by default; the ablation bench (bench/appeal_langs.py --ablation) turns them off one by one.
ENABLED = {"endpoint", "vendor", "dismiss"}

# Vendor hosts (a suffix of the link's host) -> kind. Vendors of donations, memberships,
# newsletters, app stores and paywalls; never a news publisher.
VENDORS = {
    "donorbox.org": "donate", "givebutter.com": "donate", "fundraiseup.com": "donate", "classy.org": "donate",
    "raisenow.com": "donate", "twingle.de": "donate", "helloasso.com": "donate", "liberapay.com": "donate",
    "opencollective.com": "donate", "ko-fi.com": "donate", "buymeacoffee.com": "donate", "paypal.me": "donate",
    "patreon.com": "membership", "steadyhq.com": "membership", "steady.page": "membership",
    "memberful.com": "membership", "tipeee.com": "membership", "memberstack.com": "membership",
    "list-manage.com": "newsletter", "eepurl.com": "newsletter", "mailchi.mp": "newsletter",
    "createsend.com": "newsletter", "convertkit.com": "newsletter", "kit.com": "newsletter",
    "beehiiv.com": "newsletter", "buttondown.email": "newsletter", "substack.com": "newsletter",
    "sendinblue.com": "newsletter", "brevo.com": "newsletter", "mailerlite.com": "newsletter",
    "apps.apple.com": "app", "itunes.apple.com": "app", "play.google.com": "app", "onelink.me": "app",
    "app.link": "app", "app.adjust.com": "app",
    "tinypass.com": "paywall", "piano.io": "paywall", "poool.fr": "paywall", "pelcro.com": "paywall",
    "laterpay.net": "paywall", "zephr.com": "paywall",
}  # fmt: skip
# Paths on any host: a whole path segment (or its start before "-" or "_") -> kind.
PATH_WORDS = {
    "donate": "donate", "donation": "donate", "donations": "donate", "donar": "donate", "dona": "donate",
    "spenden": "donate", "spende": "donate", "don": "donate", "faire-un-don": "donate", "doneren": "donate",
    "doneer": "donate", "doar": "donate", "doacao": "donate", "wesprzyj": "donate", "darowizna": "donate",
    "lahjoita": "donate", "bagis": "donate", "donasi": "donate", "tabarru": "donate", "kifu": "donate",
    "give": "donate", "contribute": "donate", "support-us": "donate", "supportus": "donate", "fundraise": "donate",
    "membership": "membership", "become-a-member": "membership", "mitglied-werden": "membership",
    "join": "membership", "patrons": "membership",
    "subscribe": "subscribe", "subscription": "subscribe", "subscriptions": "subscribe", "abo": "subscribe",
    "abonnement": "subscribe", "abonnieren": "subscribe", "abbonamento": "subscribe", "abbonati": "subscribe",
    "assinatura": "subscribe", "assine": "subscribe", "suscripcion": "subscribe", "suscribete": "subscribe",
    "prenumerera": "subscribe", "prenumerata": "subscribe", "subskrypcja": "subscribe", "podpiska": "subscribe",
    "abonament": "subscribe", "predplatne": "subscribe", "tilaa": "subscribe", "abonelik": "subscribe",
    "langganan": "subscribe", "checkout": "subscribe",
    "newsletter": "newsletter", "newsletters": "newsletter", "nieuwsbrief": "newsletter",
    "nyhetsbrev": "newsletter", "nyhedsbrev": "newsletter", "uutiskirje": "newsletter", "signup": "newsletter",
    "sign-up": "newsletter",
}  # fmt: skip
# segments that may go on after a "-" or "_" ("donate-now", "newsletter_signup"): verbs, not topics
PATH_PREFIXES = ("donate", "subscribe", "spenden", "abonnieren", "newsletter", "membership", "signup")
_SEGMENT = re.compile(r"[/?#&=]+")
_SEGMENT_HEAD = re.compile(r"[-_.]")
_DISMISS_ATTR = re.compile(r"(?:^|[\s_-])(?:close|dismiss|closer)(?:$|[\s_-])|modal-close|btn-close", re.I)
_DISMISS_TEXT = frozenset({"×", "✕", "✖", "x", "╳"})
_BOX_TAGS = frozenset({"div", "section", "aside", "form", "figure", "footer", "header", "dialog", "li", "p", "span"})
_BODY = ("article",)
BOX_MAX = 500  # characters: an appeal box is short
LABEL_WORDS = 6  # a call-to-action label is at most this many words


def endpoint(url: str | None) -> tuple[str, str] | None:
    """(signal, kind) when `url` leads to an appeal endpoint: ("vendor", kind) for a vendor host,
    ("endpoint", kind) for an appeal path word; None otherwise."""
    if not url or len(url) > 2000:
        return None
    # a page's navigation repeats on every page of a source: the same links, classified once
    return _classify(url.strip().lower(), "vendor" in ENABLED, "endpoint" in ENABLED)


@lru_cache(maxsize=16384)
def _classify(url: str, vendors: bool, paths: bool) -> tuple[str, str] | None:
    if url.startswith(("mailto:", "tel:", "javascript:", "#")) and not url.startswith("#/portal/signup"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").removeprefix("www.")
    if host and vendors:
        labels = host.split(".")
        for i in range(len(labels) - 1):  # the host and each parent domain: a suffix of the host
            kind = VENDORS.get(".".join(labels[i:]))
            if kind:
                return "vendor", kind
    if host.startswith(("donate.", "give.", "join.", "support.", "subscribe.", "abo.", "spenden.", "membership.")):
        return "endpoint", PATH_WORDS.get(host.split(".")[0], "donate")
    if not paths:
        return None
    for seg in _SEGMENT.split(parts.path + "/" + (parts.fragment or "")):
        if not seg:
            continue
        kind = PATH_WORDS.get(seg)
        if kind is None:
            head = _SEGMENT_HEAD.split(seg, maxsplit=1)[0]
            kind = PATH_WORDS.get(head) if head in PATH_PREFIXES else None
        if kind:
            return "endpoint", kind
    return None


def _target(el: HtmlElement) -> str | None:
    if el.tag == "a":
        return el.get("href")
    if el.tag in ("button", "input"):
        url = el.get("formaction")
        if url:
            return url
        form = next((a for a in el.iterancestors("form")), None)
        return form.get("action") if form is not None else None
    return None


def _label(el: HtmlElement) -> str:
    text = el.get("value") if el.tag == "input" else el.text_content()
    return " ".join((text or el.get("aria-label") or el.get("title") or "").split())


def _has_dismiss(box: HtmlElement) -> bool:
    for el in box.iter("button", "a", "span", "div"):
        attrs = " ".join(v for v in (el.get("class"), el.get("aria-label"), el.get("data-dismiss"), el.get("id")) if v)
        if attrs and _DISMISS_ATTR.search(attrs):
            return True
        if el.get("data-dismiss") is not None or el.get("data-bs-dismiss") is not None:
            return True
        if el.tag == "button" and (el.text or "").strip().lower() in _DISMISS_TEXT:
            return True
    return False


def candidates(
    ctas: Iterable[HtmlElement],
    text_len: Callable[[HtmlElement], int],
    protected: Callable[[HtmlElement], bool],
) -> list[tuple[HtmlElement, str]]:
    """Containers to drop as appeals: (element, rule). `ctas`: the page's links, buttons and
    inputs; `text_len(el)`: its readable text length; `protected(el)`: holds the article."""
    out: list[tuple[HtmlElement, str]] = []
    seen: set[HtmlElement] = set()
    for el in ctas:
        hit = endpoint(_target(el))
        if hit is None:
            continue
        label = _label(el)
        if not label or len(label.split()) > LABEL_WORDS:
            continue  # an inline link in a sentence, or an image
        in_body = any(a.tag in _BODY or a.get("itemprop") == "articleBody" for a in el.iterancestors())
        box = None
        node = el.getparent()
        for _ in range(5):  # the largest short box around the control
            if node is None or node.tag not in _BOX_TAGS or protected(node):
                break
            if text_len(node) > BOX_MAX:
                break
            box = node
            node = node.getparent()
        if box is None or box in seen:
            continue
        size = text_len(box)
        dismiss = "dismiss" in ENABLED and _has_dismiss(box)
        if in_body and not dismiss:
            # inside the story: only a box that is mostly its call to action, not a paragraph
            if box.tag == "p" or (size > 3 * len(label) + 200):
                continue
        elif box.tag == "p" and size > 2 * len(label) + 80:
            continue  # a sentence that links to a donation page
        seen.add(box)
        rule = "signal:dismiss+endpoint" if dismiss else f"signal:{hit[0]}:{hit[1]}"
        out.append((box, rule))
    return out
