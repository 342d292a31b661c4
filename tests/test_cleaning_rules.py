"""`cleaning:` in the sources file: validated and compiled when the file is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaners import clean_html
from newsconfig.sources import SourceConfigError, compile_cleaning, load_sources

HEAD = "sources:\n  - name: s1\n    feeds: [https://x.org/rss]\n"


def write(tmp_path: Path, cleaning: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(HEAD + f"    cleaning: {cleaning}\n")
    return path


@pytest.mark.parametrize(
    ("cleaning", "field", "words"),
    [
        ("{prune_xpth: ['//aside']}", "cleaning.prune_xpth", "unknown key"),
        ("{prune_xpath: ['//div[@class=']}", "cleaning.prune_xpath", "invalid XPath '//div[@class='"),
        ("{prune_xpath: ['//p[nosuchfunction()]']}", "cleaning.prune_xpath", "invalid XPath"),
        ("{prune_xpath: ['count(//p)']}", "cleaning.prune_xpath", "must select elements"),
        ("{prune_css: ['div[[']}", "cleaning.prune_css", "invalid CSS selector 'div[['"),
        ("{prune_css: ['']}", "cleaning.prune_css", "list of strings"),
        ("{prune_css: 'div.ad'}", "cleaning.prune_css", "list of strings"),
    ],
)
def test_bad_cleaning_rules_name_file_source_and_field(tmp_path: Path, cleaning: str, field: str, words: str) -> None:
    path = write(tmp_path, cleaning)
    with pytest.raises(SourceConfigError) as err:
        load_sources(path)
    message = str(err.value)
    assert str(path) in message and "'s1'" in message and f"`{field}`" in message and words in message


def test_good_rules_load_compiled_and_apply(tmp_path: Path) -> None:
    path = write(tmp_path, "{prune_xpath: ['//aside'], prune_css: ['div.house-ad', 'p > span.promo']}")
    (source,) = load_sources(path)
    rules = compile_cleaning(source.cleaning)
    assert [(s.kind, s.expression) for s in rules.selectors] == [
        ("xpath", "//aside"), ("css", "div.house-ad"), ("css", "p > span.promo"),
    ]  # fmt: skip
    assert rules.as_mapping() == source.cleaning
    paras = "".join(f"<p>Paragraph {i} of the story about the new bridge over the Alder River.</p>" for i in range(5))
    page = f"<html><body><article>{paras}<div class='house-ad'>Advertise with us today</div></article></body></html>"
    art = clean_html(page, source=source.cleaning)
    assert "Advertise" not in art.text
    assert any(r.rule == "source:css:div.house-ad" and "Advertise" in r.text for r in art.removed)
