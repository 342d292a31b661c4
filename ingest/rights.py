"""What a publisher declared about the use of an article (issue #15 item 2): the `rights` column.

Read from the raw partition alone, so a re-clean derives it again without the network:
- the response's `X-Robots-Tag` header and the page's `<meta name="robots">` (`noai`, `noimageai`, `noindex`,
  `noarchive`; an agent-scoped directive such as `otherbot: noai` counts too, the raw values are kept);
- TDMRep (W3C TDMRep community group report): the `tdm-reservation` / `tdm-policy` headers, else the same
  `<meta>` names, else the rule of the site's `/.well-known/tdmrep.json` whose `location` matches the path
  (the most specific), fetched once per site and crawl by the spider (`sites.jsonl.gz`);
- the site's robots.txt (also in `sites.jsonl.gz`): the AI user agents of AI_AGENTS that may not fetch the URL.

`reserved` is true when any of them reserves text and data mining of the article: `noai`, a TDM reservation,
or a disallowed AI user agent; `reserved_by` says which. A source's `rights: skip_reserved` (sources.yaml)
drops reserved articles in the clean stage (counted as `rights_reserved`); `record` (the default) keeps them.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from protego import Protego

# User agents of AI crawlers and AI training opt-outs that publishers name in robots.txt (their operators' docs)
AI_AGENTS = (
    "GPTBot", "ChatGPT-User", "OAI-SearchBot", "CCBot", "Google-Extended", "anthropic-ai", "ClaudeBot",
    "Claude-Web", "PerplexityBot", "Bytespider", "Applebot-Extended", "Meta-ExternalAgent", "FacebookBot",
    "cohere-ai", "Amazonbot", "Diffbot", "omgili", "ImagesiftBot", "Timpibot", "YouBot",
)  # fmt: skip
DIRECTIVES = ("noai", "noimageai", "noindex", "noarchive")
RESERVING = ("noai",)  # directives that reserve the text (noimageai: only images)
RIGHTS_HEADERS = ("x-robots-tag", "tdm-reservation", "tdm-policy")
POLICIES = ("record", "skip_reserved")
MAX_VALUE = 1000
SITES_FILE = "sites.jsonl.gz"  # in a raw partition, written by the spider (spiders.robots.SiteFactsExtension)
_WORD = re.compile(r"[a-z][a-z0-9_-]*")


@dataclass
class Site:
    robots: Protego | None = None
    tdmrep: list[dict] | None = None  # the rules of tdmrep.json


def load_sites(path: Path | None) -> dict[str, Site]:
    """`sites.jsonl.gz` of a raw partition: origin -> what its robots.txt and tdmrep.json said (bad parts: none)."""
    sites: dict[str, Site] = {}
    if path is None or not path.exists():
        return sites
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            try:
                fact = json.loads(line)
                origin = str(fact["origin"]).lower()
            except (ValueError, KeyError, TypeError):
                continue
            site = Site()
            text = (fact.get("robots") or {}).get("text")
            if isinstance(text, str):
                site.robots = Protego.parse(text)
            tdm = fact.get("tdmrep") or {}
            if tdm.get("status") == "fetched":
                try:
                    rules = json.loads(tdm.get("text") or "")
                except ValueError:
                    rules = None
                site.tdmrep = [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else None
            sites[origin] = site
    return sites


def _directives(value: str) -> set[str]:
    """Directives of an X-Robots-Tag or meta robots value; "otherbot: noai" gives noai."""
    found = set()
    for part in value.lower().split(","):
        word = part.rsplit(":", 1)[-1].strip() if ":" in part else part.strip()
        if _WORD.fullmatch(word):
            found.add(word)
    return found


def _location_regex(location: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in location.split("*")) + ("" if "*" in location else ".*"))


def tdmrep_rule(rules: list[dict], path: str) -> dict | None:
    """The rule of tdmrep.json for `path`: the matching `location` that is longest (the most specific)."""
    matching = [r for r in rules if isinstance(r.get("location"), str) and _location_regex(r["location"]).match(path)]
    return max(matching, key=lambda r: len(r["location"]), default=None)


def _reservation(value: object) -> bool | None:
    text = str(value).strip()
    return {"1": True, "0": False}.get(text)


def rights(url: str, headers: dict[str, str], page: dict[str, str], sites: dict[str, Site]) -> dict:
    """The `rights` struct of one article. `headers`: RIGHTS_HEADERS of the response (lower-case names);
    `page`: the page's meta values (`robots`, `tdm-reservation`, `tdm-policy`)."""
    parts = urlsplit(url)
    site = sites.get(f"{parts.scheme}://{parts.netloc}".lower(), Site())
    x_robots, meta_robots = headers.get("x-robots-tag"), page.get("robots")
    directives = _directives(x_robots or "") | _directives(meta_robots or "")
    reservation, policy, origin = None, None, None
    for where, values in (("header", headers), ("meta", page)):
        if (found := _reservation(values.get("tdm-reservation"))) is not None:
            reservation, policy, origin = found, values.get("tdm-policy"), where
            break
    if reservation is None and site.tdmrep:
        rule = tdmrep_rule(site.tdmrep, parts.path or "/")
        if rule is not None and (found := _reservation(rule.get("tdm-reservation"))) is not None:
            reservation, policy, origin = found, rule.get("tdm-policy"), "tdmrep.json"
    agents = [a for a in AI_AGENTS if site.robots is not None and not site.robots.can_fetch(url, a)]
    reserved_by = [d for d in RESERVING if d in directives]
    reserved_by += ["tdm-reservation"] if reservation else []
    reserved_by += [f"robots.txt:{a}" for a in agents]
    return {
        "x_robots_tag": _bounded(x_robots),
        "meta_robots": _bounded(meta_robots),
        **{d: d in directives for d in DIRECTIVES},
        "tdm_reservation": reservation,
        "tdm_policy": _bounded(policy if isinstance(policy, str) else None),
        "tdm_from": origin,
        "ai_agents_disallowed": agents,
        "reserved": bool(reserved_by),
        "reserved_by": reserved_by,
    }


def _bounded(value: str | None) -> str | None:
    return value[:MAX_VALUE] if value else None


def response_headers(http_headers) -> dict[str, str]:
    """The RIGHTS_HEADERS of a WARC response's HTTP headers (warcio StatusAndHeaders), repeated ones joined."""
    found: dict[str, list[str]] = {}
    for name, value in getattr(http_headers, "headers", []) or []:
        if name.lower() in RIGHTS_HEADERS:
            found.setdefault(name.lower(), []).append(value)
    return {k: ", ".join(v) for k, v in found.items()}
