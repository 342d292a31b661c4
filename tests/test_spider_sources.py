"""The sources loader: valid files load into frozen `Source`s; errors name the file, source and field."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from newsconfig.sources import Source, SourceConfigError, get_source, load_sources

GOOD = """
sources:
  - name: moscowtimes
    feeds: [https://www.themoscowtimes.com/rss/news]
    sitemaps: [https://www.themoscowtimes.com/sitemap.xml]
    allowed_domains: [themoscowtimes.com]
    article_url_patterns: ['^https://www\\.themoscowtimes\\.com/\\d{4}/']
    deny_url_patterns: ['/video/']
    language: en
    quiet: true
    politeness: {download_delay: 2, concurrency: 1, autothrottle: true}
    cleaning: {prune_xpath: ['//aside'], prune_css: ['.donate']}
  - name: local-demo
    feeds: [http://127.0.0.2:8080/rss.xml]
"""


def write(tmp_path, text: str):
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_load_good_file(tmp_path):
    path = write(tmp_path, GOOD)
    mt, demo = load_sources(path)
    assert isinstance(mt, Source) and mt.name == "moscowtimes"
    assert mt.feeds == ("https://www.themoscowtimes.com/rss/news",)
    assert mt.quiet is True and mt.language == "en"
    assert mt.cleaning == {"prune_xpath": ["//aside"], "prune_css": [".donate"]}
    assert mt.scrapy_settings() == {"DOWNLOAD_DELAY": 2.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                                    "AUTOTHROTTLE_ENABLED": True}  # fmt: skip
    assert demo.allowed_domains == ("127.0.0.2",)  # defaults to the configured hosts
    assert "127.0.0.2" in demo.configured_hosts
    with pytest.raises(dataclasses.FrozenInstanceError):
        mt.name = "other"  # type: ignore[misc]
    assert get_source("local-demo", path) == demo


def test_env_default_path(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWS_SOURCES", str(write(tmp_path, GOOD)))
    assert [s.name for s in load_sources()] == ["moscowtimes", "local-demo"]


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    colour: red\n", "colour", "unknown key"),
        ("  - name: s1\n    feeds: [ftp://x.org/rss]\n", "feeds", "not an absolute http"),
        ("  - name: s1\n    sitemaps: [not a url]\n", "sitemaps", "not an absolute http"),
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    deny_url_patterns: ['(']\n", "deny_url_patterns",
         "bad regular expression"),
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    article_url_patterns: ['[a-']\n",
         "article_url_patterns", "bad regular expression"),
        ("  - name: Bad Name\n    feeds: [https://x.org/rss]\n", "name", "[a-z0-9_-]+"),
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    quiet: maybe\n", "quiet", "true or false"),
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    allowed_domains: [https://x.org/]\n",
         "allowed_domains", "bare host"),
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    politeness: {delay: 1}\n", "politeness.delay",
         "unknown key"),
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    politeness: {download_delay: -1}\n",
         "politeness.download_delay", "non-negative"),
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    cleaning: {prune_xpath: '//aside'}\n",
         "cleaning.prune_xpath", "list of strings"),
        ("  - name: s1\n    feeds: [https://x.org/rss]\n    cleaning: [x]\n", "cleaning", "mapping"),
        ("  - name: s1\n", "feeds", "at least one feed or sitemap"),
    ],
)  # fmt: skip
def test_errors_name_file_source_and_field(tmp_path, entry, field, words):
    path = write(tmp_path, "sources:\n" + entry)
    with pytest.raises(SourceConfigError) as err:
        load_sources(path)
    message = str(err.value)
    assert str(path) in message
    assert f"`{field}`" in message
    assert words in message
    if "Bad Name" not in entry:
        assert "'s1'" in message


def test_file_level_errors(tmp_path):
    with pytest.raises(SourceConfigError, match="cannot read"):
        load_sources(tmp_path / "missing.yaml")
    with pytest.raises(SourceConfigError, match="list under `sources`"):
        load_sources(write(tmp_path, "feeds: []\n"))
    with pytest.raises(SourceConfigError, match="not valid YAML"):
        load_sources(write(tmp_path, "sources: [\n"))
    dup = "sources:\n  - {name: a, feeds: ['https://x.org/']}\n  - {name: a, feeds: ['https://y.org/']}\n"
    with pytest.raises(SourceConfigError, match="duplicate source name"):
        load_sources(write(tmp_path, dup))
    with pytest.raises(SourceConfigError, match="no source named 'zzz'"):
        get_source("zzz", write(tmp_path, GOOD))
    assert issubclass(SourceConfigError, ValueError)


def test_project_sources_file_is_valid():
    assert {s.name for s in load_sources(Path(__file__).resolve().parents[1] / "sources.yaml")} >= {
        "moscowtimes"
    }
