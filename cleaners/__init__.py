"""Article extraction and appeal stripping for news pages (see README in bench/ for figures).

Layers: 1 structure (appeal containers in the page), 2 text (appeal paragraphs, plain text too),
3 repeat (paragraphs repeating across a source's articles). Every removal is recorded.
"""

from .appeals import is_appeal
from .article import CLEANER_VERSION, REASONS, Article, Removal, fingerprint
from .batch import clean_batch
from .extract import clean_html
from .repeats import BoilerplateState
from .text import strip_text

__all__ = [
    "CLEANER_VERSION",
    "REASONS",
    "Article",
    "BoilerplateState",
    "Removal",
    "clean_batch",
    "clean_html",
    "fingerprint",
    "is_appeal",
    "strip_text",
]
