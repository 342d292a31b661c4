"""The sources file: one declarative entry per publisher, validated when loaded.

Every package (the spider, the cleaners, the pipeline) reads sources through `load_sources` and `get_source`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from newsconfig.env import sources_path

NAME_RE = re.compile(r"^[a-z0-9_-]+$")
LANGUAGE_RE = re.compile(r"^[a-zA-Z]{2,3}([-_][A-Za-z0-9]+)*$")
DOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
# Politeness keys: the types accepted in sources.yaml and the Scrapy setting each one overrides.
POLITENESS: dict[str, tuple[tuple[type, ...], str]] = {
    "download_delay": ((int, float), "DOWNLOAD_DELAY"),
    "concurrency": ((int,), "CONCURRENT_REQUESTS_PER_DOMAIN"),
    "autothrottle": ((bool,), "AUTOTHROTTLE_ENABLED"),
    "autothrottle_target_concurrency": ((int, float), "AUTOTHROTTLE_TARGET_CONCURRENCY"),
    "autothrottle_max_delay": ((int, float), "AUTOTHROTTLE_MAX_DELAY"),
    "download_timeout": ((int, float), "DOWNLOAD_TIMEOUT"),
    "randomize_download_delay": ((bool,), "RANDOMIZE_DOWNLOAD_DELAY"),
}
FIELDS = {
    "name", "feeds", "sitemaps", "allowed_domains", "article_url_patterns", "deny_url_patterns",
    "language", "quiet", "politeness", "cleaning", "rights", "archives",
}  # fmt: skip
# `rights:`: what the clean stage does with an article whose publisher reserved text and data mining (ingest.rights)
RIGHTS_POLICIES = ("record", "skip_reserved")
# `archives:` the web archives a source opts in to for backfills (issue #16): Wayback Machine, Common Crawl's
# index, Common Crawl's CC-NEWS WARC files (bulk, by month)
ARCHIVES = ("wayback", "commoncrawl", "cc-news")


class SourceConfigError(ValueError):
    """A sources file that cannot be used; the message names the file, the source and the field."""


# `cleaning:` keys: per-source selectors of page elements the cleaners remove before extraction
CLEANING_KEYS = {"prune_xpath": "xpath", "prune_css": "css"}


class CleaningRuleError(ValueError):
    """One bad `cleaning:` entry; `field` is its key (e.g. `cleaning.prune_xpath`)."""

    def __init__(self, fieldname: str, problem: str) -> None:
        super().__init__(f"field `{fieldname}`: {problem}")
        self.field = fieldname
        self.problem = problem


@dataclass(frozen=True)
class Selector:
    """A compiled `prune_xpath` or `prune_css` entry."""

    kind: str  # "xpath" | "css"
    expression: str  # as written in the sources file
    xpath: Any = field(compare=False, repr=False)  # lxml.etree.XPath

    def select(self, tree: Any) -> list:
        found = self.xpath(tree)
        return found if isinstance(found, list) else []


@dataclass(frozen=True)
class CleaningRules:
    selectors: tuple[Selector, ...] = ()

    def as_mapping(self) -> dict[str, list[str]]:
        """The `cleaning:` mapping these rules were compiled from."""
        keys = {kind: key for key, kind in CLEANING_KEYS.items()}
        out: dict[str, list[str]] = {}
        for s in self.selectors:
            out.setdefault(keys[s.kind], []).append(s.expression)
        return out


_EMPTY_PAGE = "<html><head><title>t</title></head><body><p>t</p></body></html>"


def _compile_selector(kind: str, expression: str, fieldname: str) -> Selector:
    from lxml import etree, html

    try:
        if kind == "css":
            from lxml.cssselect import CSSSelector, SelectorError

            try:
                xpath: Any = CSSSelector(expression, translator="html")
            except SelectorError as e:
                raise CleaningRuleError(fieldname, f"invalid CSS selector {expression!r}: {e}") from e
        else:
            xpath = etree.XPath(expression)
        result = xpath(html.document_fromstring(_EMPTY_PAGE))  # unknown functions fail only when evaluated
    except etree.XPathError as e:
        raise CleaningRuleError(fieldname, f"invalid XPath {expression!r}: {e}") from e
    if not isinstance(result, list):
        raise CleaningRuleError(fieldname, f"{expression!r} must select elements, it gives a {type(result).__name__}")
    return Selector(kind, expression, xpath)


@lru_cache(maxsize=256)
def _compile(items: tuple[tuple[str, tuple[str, ...]], ...]) -> CleaningRules:
    selectors = []
    for key, values in items:
        if key not in CLEANING_KEYS:
            raise CleaningRuleError(f"cleaning.{key}", f"unknown key (known: {', '.join(sorted(CLEANING_KEYS))})")
        selectors += [_compile_selector(CLEANING_KEYS[key], v, f"cleaning.{key}") for v in values]
    return CleaningRules(tuple(selectors))


def compile_cleaning(cleaning: Mapping[str, Any] | None) -> CleaningRules:
    """Validate and compile a `cleaning:` mapping ({"prune_xpath": [...], "prune_css": [...]}).

    Raises CleaningRuleError naming the field. Compiled once per distinct mapping (the result is cached)."""
    if not cleaning:
        return CleaningRules()
    if not isinstance(cleaning, Mapping):
        raise CleaningRuleError("cleaning", "expected a mapping of lists of strings")
    items = []
    for key, value in cleaning.items():
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
            raise CleaningRuleError(f"cleaning.{key}", "expected a list of strings, none empty")
        items.append((str(key), tuple(value)))
    return _compile(tuple(items))


@dataclass(frozen=True)
class Source:
    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    article_url_patterns: tuple[str, ...] = ()
    deny_url_patterns: tuple[str, ...] = ()
    language: str | None = None
    quiet: bool = False
    politeness: dict[str, Any] = field(default_factory=dict, hash=False)
    cleaning: dict[str, list[str]] = field(default_factory=dict, hash=False)
    rights: str = "record"
    archives: tuple[str, ...] = ()

    @property
    def configured_hosts(self) -> frozenset[str]:
        """Hosts the operator named explicitly: trusted even when private or loopback."""
        hosts = {(urlsplit(u).hostname or "").lower() for u in (*self.feeds, *self.sitemaps)}
        return frozenset(hosts | set(self.allowed_domains)) - {""}

    def scrapy_settings(self) -> dict[str, Any]:
        """This source's politeness overrides as Scrapy settings."""
        # the last accepted type is the setting's own: float for delays, int for counts, bool for switches
        return {POLITENESS[key][1]: POLITENESS[key][0][-1](value) for key, value in self.politeness.items()}


def load_sources(path: str | os.PathLike | None = None) -> list[Source]:
    """Read and validate every source of a sources file."""
    path = Path(path) if path is not None else sources_path()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SourceConfigError(f"{path}: cannot read the sources file: {e}") from e
    except yaml.YAMLError as e:
        raise SourceConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list):
        raise SourceConfigError(f"{path}: expected a mapping with a list under `sources`")
    extra = set(doc) - {"sources"}
    if extra:
        raise SourceConfigError(f"{path}: unknown top-level key(s) {sorted(extra)}")
    sources, names = [], set()
    for i, entry in enumerate(doc["sources"]):
        source = _parse_entry(path, i, entry)
        if source.name in names:
            raise SourceConfigError(f"{path}: source {source.name!r}: field `name`: duplicate source name")
        names.add(source.name)
        sources.append(source)
    return sources


def get_source(name: str, path: str | os.PathLike | None = None) -> Source:
    """One source by name; an unknown name is a SourceConfigError listing the known ones."""
    sources = load_sources(path)
    for source in sources:
        if source.name == name:
            return source
    shown = path if path is not None else sources_path()
    raise SourceConfigError(f"{shown}: no source named {name!r}; known: {[s.name for s in sources]}")


def _parse_entry(path: Path, index: int, entry: Any) -> Source:
    label = f"#{index}"
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        label = repr(entry["name"])

    def fail(fieldname: str, problem: str) -> SourceConfigError:
        return SourceConfigError(f"{path}: source {label}: field `{fieldname}`: {problem}")

    if not isinstance(entry, dict):
        raise SourceConfigError(f"{path}: source {label}: expected a mapping, got {type(entry).__name__}")
    for key in entry:
        if key not in FIELDS:
            raise fail(str(key), f"unknown key (known: {', '.join(sorted(FIELDS))})")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise fail("name", f"must match [a-z0-9_-]+, got {name!r}")

    def strings(key: str) -> tuple[str, ...]:
        value = entry.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise fail(key, "must be a list of non-empty strings")
        return tuple(v.strip() for v in value)

    feeds, sitemaps = strings("feeds"), strings("sitemaps")
    for key, urls in (("feeds", feeds), ("sitemaps", sitemaps)):
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise fail(key, f"not an absolute http(s) URL: {url!r}")
    if not feeds and not sitemaps:
        raise fail("feeds", "a source needs at least one feed or sitemap")
    domains = tuple(d.lower() for d in strings("allowed_domains"))
    for d in domains:
        if not DOMAIN_RE.match(d):
            raise fail("allowed_domains", f"not a bare host name (no scheme, port or path): {d!r}")
    if not domains:  # default: the hosts of the configured URLs
        domains = tuple(sorted({urlsplit(u).hostname.lower() for u in (*feeds, *sitemaps)}))
    patterns = {}
    for key in ("article_url_patterns", "deny_url_patterns"):
        patterns[key] = strings(key)
        for pattern in patterns[key]:
            try:
                re.compile(pattern)
            except re.error as e:
                raise fail(key, f"bad regular expression {pattern!r}: {e}") from e
    language = entry.get("language")
    if language is not None and not (isinstance(language, str) and LANGUAGE_RE.match(language)):
        raise fail("language", f"expected a language code such as 'en', got {language!r}")
    quiet = entry.get("quiet", False)
    if not isinstance(quiet, bool):
        raise fail("quiet", f"expected true or false, got {quiet!r}")
    politeness = entry.get("politeness") or {}
    if not isinstance(politeness, dict):
        raise fail("politeness", "expected a mapping")
    for key, value in politeness.items():
        if key not in POLITENESS:
            raise fail(f"politeness.{key}", f"unknown key (known: {', '.join(sorted(POLITENESS))})")
        types = POLITENESS[key][0]
        if (
            not isinstance(value, types)
            or (bool not in types and isinstance(value, bool))
            or (not isinstance(value, bool) and value < 0)
        ):
            raise fail(f"politeness.{key}", f"expected a non-negative {types[0].__name__}, got {value!r}")
    cleaning = entry.get("cleaning") or {}
    if not isinstance(cleaning, dict):
        raise fail("cleaning", "expected a mapping of lists of strings")
    try:
        compile_cleaning(cleaning)  # unknown keys, bad XPath or CSS: an error now, not at cleaning time
    except CleaningRuleError as e:
        raise fail(e.field, e.problem) from e
    rights = entry.get("rights", "record")
    if rights not in RIGHTS_POLICIES:
        raise fail("rights", f"expected one of {', '.join(RIGHTS_POLICIES)}, got {rights!r}")
    archives = strings("archives")
    for archive in archives:
        if archive not in ARCHIVES:
            raise fail("archives", f"unknown archive {archive!r} (known: {', '.join(ARCHIVES)})")
    if len(set(archives)) != len(archives):
        raise fail("archives", f"an archive named twice: {list(archives)}")
    return Source(
        rights=rights,
        archives=archives,
        name=name,
        feeds=feeds,
        sitemaps=sitemaps,
        allowed_domains=domains,
        article_url_patterns=patterns["article_url_patterns"],
        deny_url_patterns=patterns["deny_url_patterns"],
        language=language,
        quiet=quiet,
        politeness=dict(politeness),
        cleaning={k: list(v) for k, v in cleaning.items()},
    )
