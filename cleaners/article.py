"""Result types shared by every layer: Article, Removal and the text fingerprint."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

CLEANER_VERSION = "0.2.0"
LAYERS = ("structure", "text", "repeat")
# Why a document gave no article (`Article.reason`; the clean stage counts rejections by it)
REASONS = {
    "empty": "an empty document",
    "not_html": "no markup, or nothing an HTML parser can read",
    "binary": "binary data: a sniffed binary format or too many control characters",
    "too_large": "over the size limit (also after decompression)",
    "bad_gzip": "a gzip body that does not inflate",
    "mojibake": "text that reads as mojibake under its declared encoding and under any detected one",
    "too_deep": "nesting too deep for the parser",
    "no_article": "no article text found (a menu, a stub, an index page)",
    "appeal_only": "the page is all appeal text (a 'support us' page)",
    "too_slow": "cleaning took longer than the per-document time budget",
    "failed": "an unexpected error in extraction (logged)",
    "unreadable": "the input could not be read: a missing file, a bad manifest line, a broken WARC record (CLI)",
}

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_WORD_RUN = re.compile(r"[^\W_]+")  # what _NON_WORD separates


@dataclass
class Removal:
    """One thing a layer removed: its text, the rule that fired and the layer."""

    text: str
    rule: str
    layer: str  # "structure" | "text" | "repeat" (safeguard entries carry the layer they protected)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Article:
    url: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    language: str | None = None  # declared: <html lang>
    language_detected: str | None = None  # detected from the cleaned text (cleaners/language.py)
    site_name: str | None = None
    canonical_url: str | None = None
    image_url: str | None = None  # the lead image (og:image, JSON-LD image)
    section: str | None = None
    keywords: list[str] = field(default_factory=list)  # the page's keywords/tags
    modified_at: str | None = None  # the modification date the page declares
    free_access: bool | None = None  # cleaners/access.py
    truncated: bool | None = None
    access_signals: list[str] = field(default_factory=list)  # why not free / truncated
    page_rights: dict[str, str] = field(default_factory=dict)  # <meta> robots, tdm-reservation, tdm-policy
    text: str = ""
    removed: list[Removal] = field(default_factory=list)
    fingerprint: str = ""
    cleaner_version: str = CLEANER_VERSION
    error: str | None = None  # what went wrong, for humans
    reason: str | None = None  # the rejection's code, one of REASONS

    def reject(self, reason: str, error: str) -> Article:
        """Mark the document rejected: no text, a reason code and a message."""
        assert reason in REASONS, reason  # noqa: S101 - a code the report and the stats know
        self.reason, self.error, self.text, self.fingerprint = reason, error, "", ""
        return self

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p.strip()]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["removed"] = [r.to_dict() for r in self.removed]
        return d


def normalise(text: str) -> str:
    """Case-, accent-form- and punctuation-insensitive form used for hashing and comparisons."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD_RUN.findall(text))  # == " ".join(_NON_WORD.sub(" ", text).split())


def fingerprint(text: str) -> str:
    """Stable hex hash of the normalised text (same words in the same order -> same hash)."""
    return hash_normalised(normalise(text))


def hash_normalised(norm: str) -> str:
    """`fingerprint` of a text whose `normalise` form is `norm`."""
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=16).hexdigest()


def clip(text: str, limit: int = 2000) -> str:
    """Removal texts are for humans and audits: keep them bounded."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
