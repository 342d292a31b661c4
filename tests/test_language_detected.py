"""The language detected from the cleaned text beside the declared one (issue #15 item 4): ten languages, the
declared one from <html lang> else sources.yaml, disagreements counted in the clean stats and the report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from cleaners import clean_html
from cleaners.language import disagree, primary
from ingest import report as reporting
from tests.raw_pages import clean_and_publish, page, published_rows, sources_file, write_raw

STORIES: dict[str, str] = yaml.safe_load((Path(__file__).parent / "data/languages/bridge.yaml").read_text())
DAY = date(2026, 11, 20)


def paragraphs(lang: str) -> list[str]:
    return [s.strip() + "." for s in STORIES[lang].split(". ") if s.strip()]


@pytest.mark.parametrize("lang", sorted(STORIES))
def test_the_language_of_the_text_is_detected(lang: str) -> None:
    assert len(STORIES) == 10
    art = clean_html(page(paragraphs(lang), "Bridge", lang=None), url=f"https://poly.example/{lang}")
    assert (art.language, art.language_detected) == (None, lang)


def test_declared_tags_compare_by_their_primary_language() -> None:
    assert primary("en-GB") == "en" and primary("nb_NO") == "no" and primary("") is None
    assert not disagree("en-US", "en") and not disagree("nb", "no") and not disagree(None, "de")
    assert disagree("en", "de")


def test_the_clean_stage_keeps_both_and_counts_disagreements(bucket, tmp_path, monkeypatch) -> None:
    sources_file(tmp_path, monkeypatch, "  - name: poly\n    feeds: [https://poly.example/feed]\n    language: en\n")
    pages = [(f"https://poly.example/{lang}", page(paragraphs(lang), f"Bridge {lang}", lang=lang), [])
             for lang in STORIES]  # fmt: skip
    pages += [
        ("https://poly.example/lying", page(paragraphs("de"), "Bridge lying", lang="en-GB"), []),
        ("https://poly.example/undeclared", page(paragraphs("fr"), "Bridge undeclared", lang=None), []),
    ]
    write_raw(bucket, tmp_path, "poly", DAY, pages)
    stats = clean_and_publish("poly", DAY)
    rows = published_rows(bucket, "poly")
    for lang in STORIES:
        assert (rows[f"https://poly.example/{lang}"]["language"], rows[f"https://poly.example/{lang}"]
                ["language_detected"]) == (lang, lang)  # fmt: skip
    assert (rows["https://poly.example/lying"]["language"], rows["https://poly.example/lying"]["language_detected"]) \
        == ("en", "de")  # fmt: skip
    # no <html lang>: the source's declared language
    undeclared = rows["https://poly.example/undeclared"]
    assert (undeclared["language"], undeclared["language_detected"]) == ("en", "fr")
    assert stats["language_disagreements"] == {"en->de": 1, "en->fr": 1}
    summary = reporting.summarise(DAY, "run", {"poly": {"crawl": {"summary": {}}, "clean": {"stats": stats},
                                                        "validate": {}, "publish": {}}})  # fmt: skip
    assert summary["sources"]["poly"]["language_disagreements"] == {"en->de": 1, "en->fr": 1}
    assert summary["language_disagreements"] == {"en->de": 1, "en->fr": 1}
    assert reporting.totals(summary)["language_disagreements"] == 2
    assert "Declared language is not the detected one" in reporting.to_html(summary)
