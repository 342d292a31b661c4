"""Tests for demo_site: the ground-truth model and the site served over real loopback sockets."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
import yaml

from demo_site import DemoSite, build_site

ANCHOR = date(2024, 5, 17)
REPO = Path(__file__).resolve().parents[1]
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
    "atom": "http://www.w3.org/2005/Atom",
}
# the element that holds the article body on each layout
BODY_XPATH = {
    "wordpress": "//article//div[@class='entry-content']",
    "html5": "//main/article//section[@class='story-body']",
    "legacy": "//div[@id='content']//div[@class='text']",
}


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Plain http.client request: no proxies from the environment, no redirect following."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""))
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def norm(text: str) -> str:
    return " ".join(text.split())


def visible_texts(doc: lxml.html.HtmlElement) -> set[str]:
    skip = ("script", "style", "head")
    # comments have a non-str tag and no text_content()
    return {norm(el.text_content()) for el in doc.iter() if isinstance(el.tag, str) and el.tag not in skip}


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def demo():
    with DemoSite(ANCHOR) as running:
        yield running


# ----------------------------------------------------------------------------- model only


def test_model_size_and_spread():
    site = build_site(ANCHOR)
    assert len(site.publishers) == 3
    assert all(re.fullmatch(r"[a-z0-9_-]+", p.name) and p.language == "en" for p in site.publishers)
    assert len({p.layout for p in site.publishers}) == 3
    assert len(site.articles) >= 15
    for pub in site.publishers:
        arts = site.articles_of(pub.name)
        assert len(arts) >= 5
        assert len({a.published.date() for a in arts}) >= 3
    days = Counter((ANCHOR - a.published.date()).days for a in site.articles)
    assert set(days) == {0, 1, 2, 3} and 1 <= days[3] <= 3
    assert len({a.published.hour for a in site.articles}) >= 10  # varied times of day
    for a in site.articles:
        assert a.published.tzinfo is not None and a.published.utcoffset() == timedelta(0)
        assert a.last_modified >= a.published
        assert 4 <= len(a.paragraphs) <= 9
        assert all(len(p.split()) >= 15 for p in a.paragraphs)


def test_paragraphs_unique_and_appeals_complete():
    site = build_site(ANCHOR)
    counts = Counter(p for a in site.articles for p in a.paragraphs)
    assert [p for p, n in counts.items() if n > 1] == []
    assert len({a.title for a in site.articles}) == len(site.articles)
    mentions = [m for a in site.articles for m in a.news_mentions]
    assert len(mentions) >= 2
    for a in site.articles:
        assert set(a.news_mentions) <= set(a.paragraphs)
        joined = "\n".join(a.appeals)
        assert re.search(r"^A Message from .+:$", joined, re.M)
        assert "Dear readers," in a.appeals and "Remind me later." in a.appeals and "Support us" in a.appeals
        assert re.search(r"newsletter|Morning Ledger", joined, re.I)
        assert "unsubscribe at any time" in joined
        assert re.search(r"^Join for .\d a month$", joined, re.M)
        # appeal wording never leaks into the article text itself
        assert not set(a.appeals) & set(a.paragraphs)


def test_dates_follow_the_anchor():
    a, b = build_site(ANCHOR), build_site(ANCHOR + timedelta(days=40))
    assert [x.published + timedelta(days=40) for x in a.articles] == [x.published for x in b.articles]
    # two layouts put the date in the URL, the Ledger's /news/<section>/<slug> does not
    dated = {p.name for p in a.publishers if "{published" in p.article_path}
    assert len(dated) == 2
    assert all(x.path != y.path for x, y in zip(a.articles, b.articles, strict=True) if x.publisher in dated)
    assert max(x.published.date() for x in a.articles) == ANCHOR
    assert build_site(ANCHOR) == a  # pure and deterministic
    feed = a.files("millbrook", "http://example.test/")["/feed/"][1].decode()
    assert "<link>http://example.test/2024/05/17/" in feed and "127.0.0" not in feed


# ----------------------------------------------------------------------------- served over HTTP


def test_distinct_loopback_hosts(demo):
    hosts = [urlsplit(u).hostname for u in demo.base_urls.values()]
    assert hosts == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    assert all(urlsplit(u).port for u in demo.base_urls.values())


def test_robots(demo):
    for pub in demo.site.publishers:
        base = demo.base_urls[pub.name]
        status, headers, body = fetch(base + "/robots.txt")
        assert status == 200 and headers["content-type"].startswith("text/plain")
        text = body.decode()
        assert "User-agent: *" in text and "Disallow: /" not in text
        sitemaps = re.findall(r"^Sitemap: (\S+)$", text, re.M)
        assert sitemaps and all(s.startswith(base + "/") for s in sitemaps)


def _feed_entries(demo, pub) -> dict[str, datetime]:
    url = demo.base_urls[pub.name] + pub.feed_path
    status, headers, body = fetch(url)
    assert status == 200
    root = ET.fromstring(body)
    if root.tag == "rss":
        assert headers["content-type"] == "application/rss+xml" and root.get("version") == "2.0"
        return {
            item.findtext("link"): parsedate_to_datetime(item.findtext("pubDate"))
            for item in root.iter("item")
        }
    assert headers["content-type"] == "application/atom+xml" and root.tag == f"{{{NS['atom']}}}feed"
    entries = {}
    for entry in root.findall("atom:entry", NS):
        assert parse_iso(entry.findtext("atom:updated", namespaces=NS)) >= parse_iso(
            entry.findtext("atom:published", namespaces=NS)
        )
        link = entry.find("atom:link[@rel='alternate']", NS).get("href")
        entries[link] = parse_iso(entry.findtext("atom:published", namespaces=NS))
    return entries


def test_feeds_list_every_article_with_its_date(demo):
    kinds = set()
    for pub in demo.site.publishers:
        kinds.add(pub.feed_kind)
        entries = _feed_entries(demo, pub)
        expected = {demo.url(a): a.published for a in demo.site.articles_of(pub.name)}
        assert entries == expected
    assert kinds == {"rss", "atom"}


def _sitemap_urls(url: str, seen_kinds: set[str]) -> dict[str, datetime]:
    status, headers, body = fetch(url)
    assert status == 200 and headers["content-type"] == "application/xml"
    root = ET.fromstring(body)
    found: dict[str, datetime] = {}
    if root.tag == f"{{{NS['sm']}}}sitemapindex":
        seen_kinds.add("index")
        for sm in root.findall("sm:sitemap", NS):
            assert parse_iso(sm.findtext("sm:lastmod", namespaces=NS))
            found.update(_sitemap_urls(sm.findtext("sm:loc", namespaces=NS), seen_kinds))
        return found
    for u in root.findall("sm:url", NS):
        loc = u.findtext("sm:loc", namespaces=NS)
        news_date = u.findtext("news:news/news:publication_date", namespaces=NS)
        if news_date:
            seen_kinds.add("news")
            found[loc] = parse_iso(news_date)
        else:
            seen_kinds.add("urlset")
            found[loc] = parse_iso(u.findtext("sm:lastmod", namespaces=NS))
    return found


def test_sitemaps_reach_every_article(demo):
    kinds: set[str] = set()
    for pub in demo.site.publishers:
        base = demo.base_urls[pub.name]
        robots = fetch(base + "/robots.txt")[2].decode()
        found: dict[str, datetime] = {}
        for sm in re.findall(r"^Sitemap: (\S+)$", robots, re.M):
            found.update(_sitemap_urls(sm, kinds))
        arts = demo.site.articles_of(pub.name)
        assert set(found) == {demo.url(a) for a in arts}
        for a in arts:  # lastmod or publication date, both bounded by the article's own dates
            assert a.published <= found[demo.url(a)] <= a.last_modified
    assert kinds >= {"index", "urlset", "news"}


def test_article_pages_match_ground_truth(demo):
    for pub in demo.site.publishers:
        for a in demo.site.articles_of(pub.name):
            status, headers, body = fetch(demo.url(a))
            assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
            doc = lxml.html.fromstring(body.decode("utf-8"))
            (container,) = doc.xpath(BODY_XPATH[pub.layout])
            body_paras = [norm(p.text_content()) for p in container.iter("p")]
            for para in a.paragraphs:
                assert para in body_paras, (a.path, para[:60])
            texts = visible_texts(doc)
            for line in a.appeals:
                assert line in texts, (a.path, line)
            # metadata a crawler relies on
            assert doc.xpath("string(//link[@rel='canonical']/@href)") == demo.url(a)
            assert doc.xpath("string(//meta[@property='og:site_name']/@content)") == pub.title
            assert a.title in doc.findtext(".//title")
            assert a.author in norm(doc.text_content())
            dates = doc.xpath("//meta[@property='article:published_time']/@content")
            dates += doc.xpath("(//time/@datetime)[1]")
            for script in doc.xpath("//script[@type='application/ld+json']/text()"):
                data = json.loads(script)
                assert data["@type"] == "NewsArticle"
                dates.append(data["datePublished"])
            assert dates and all(parse_iso(d) == a.published for d in dates), (a.path, dates)


def test_layouts_differ_and_carry_page_chrome(demo):
    for pub in demo.site.publishers:
        a = demo.site.articles_of(pub.name)[0]
        html = fetch(demo.url(a))[2].decode()
        doc = lxml.html.fromstring(html)
        texts = visible_texts(doc)
        chrome = ("Share on X", "Facebook", "Copy link", "Manage preferences", "Related stories", "Most read")
        assert set(chrome) <= texts, pub.name
        assert "We use cookies" in html or "uses cookies" in html
        assert re.search(rf"© {ANCHOR.year} ", norm(doc.text_content()))
        assert doc.xpath("//*[contains(@class, 'crumbs') or contains(@class, 'breadcrumbs')]")
        (container,) = doc.xpath(BODY_XPATH[pub.layout])
        heading = f"A Message from {pub.title}:"
        donation = [el for el in container.iter() if norm(el.text_content()).startswith(heading)]
        block = [el for el in donation if el.tag in ("div", "aside")][-1]  # innermost block
        if pub.layout == "wordpress":
            assert "donate-banner" in block.get("class")
        elif pub.layout == "html5":
            assert block.tag == "aside" and block.get("role") == "complementary"
        else:  # only the text gives it away
            assert block.tag == "div" and not block.attrib
        # the inline appeal is a plain <p> between body paragraphs
        inline = a.appeals[0]
        positions = [norm(p.text_content()) for p in container.iter("p")]
        idx = positions.index(inline)
        assert positions[idx + 1] in a.paragraphs and positions[idx - 1] in a.paragraphs
    other = [fetch(demo.url(demo.site.articles_of(p.name)[0]))[2] for p in demo.site.publishers]
    assert b"entry-content" in other[0] and b"story-body" in other[1] and b'id="content"' in other[2]
    assert b"application/ld+json" in other[2] and b"application/ld+json" not in other[0]


def test_internal_links_resolve(demo):
    for pub in demo.site.publishers:
        base = demo.base_urls[pub.name]
        todo, seen = [base + "/"], set()
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            seen.add(url)
            status, headers, body = fetch(url)
            assert status == 200, url
            if headers["content-type"].startswith("text/html"):
                doc = lxml.html.fromstring(body)
                for href in doc.xpath("//a/@href"):
                    target = urljoin(url, href).split("#")[0]
                    if target.startswith(base + "/"):
                        todo.append(target)
        assert {demo.url(a) for a in demo.site.articles_of(pub.name)} <= seen
        assert len(seen) > 15


def test_head_404_redirect_and_request_log(demo):
    a = demo.site.articles[0]
    get = fetch(demo.url(a))
    head = fetch(demo.url(a), "HEAD")
    assert head[0] == 200 and head[2] == b""
    assert head[1]["content-length"] == str(len(get[2])) and head[1]["content-type"] == get[1]["content-type"]
    base = demo.base_urls["millbrook"]
    status, headers, body = fetch(base + "/no/such/page.html")
    assert status == 404 and headers["content-type"].startswith("text/html") and b"Not Found" in body
    status, headers, _ = fetch(base + "/feed")
    assert status == 301 and headers["location"] == base + "/feed/"
    assert fetch(base + "/newsletter/", "POST")[0] == 405
    log = list(demo.request_log)
    assert ("millbrook", "GET", "/no/such/page.html", 404) in log
    assert ("millbrook", "POST", "/newsletter/", 405) in log
    assert (a.publisher, "HEAD", a.path, 200) in log


def test_write_sources(demo, tmp_path):
    path = demo.write_sources(tmp_path / "sources.yaml")
    data = yaml.safe_load(path.read_text())
    assert [s["name"] for s in data["sources"]] == [p.name for p in demo.site.publishers]
    for src in data["sources"]:
        base = demo.base_urls[src["name"]]
        assert src["allowed_domains"] == [urlsplit(base).hostname]
        assert src["language"] == "en"
        for url in src["feeds"] + src["sitemaps"]:
            assert url.startswith(base + "/") and fetch(url)[0] == 200


def test_clean_shutdown():
    before = {t.ident for t in threading.enumerate()}
    with DemoSite(ANCHOR + timedelta(days=1)) as other:
        addrs = [(urlsplit(u).hostname, urlsplit(u).port) for u in other.base_urls.values()]
        assert fetch(next(iter(other.base_urls.values())) + "/")[0] == 200
    assert {t.ident for t in threading.enumerate()} <= before
    for host, port in addrs:
        with pytest.raises(OSError):
            socket.create_connection((host, port), timeout=1).close()
        # the port is free again: a new server can bind it. SO_REUSEADDR (as HTTPServer sets it) tolerates
        # TIME_WAIT from closed connections, but Linux still refuses it while anything listens there
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
            s.listen()


def test_cli_serves_until_interrupted(tmp_path):
    out = tmp_path / "sources.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo_site", "--anchor", "2024-02-29", "--sources-out", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        # Ctrl-C in a terminal: a suite started in the background (`make test &`, CI runners) ignores SIGINT, and
        # the child would inherit that and never stop (Python installs no KeyboardInterrupt handler then)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        lines = []
        deadline = time.monotonic() + 60  # a budget: a busy machine starts Python slowly
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or "Ctrl-C" in line:
                break
        urls = re.findall(r"http://127\.0\.0\.\d+:\d+", "".join(lines))
        assert len(urls) == 3
        sources = yaml.safe_load(out.read_text())["sources"]
        status, _, body = fetch(sources[0]["feeds"][0])
        assert status == 200 and b"Thu, 29 Feb 2024" in body
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=120)  # a budget for a busy machine, not an expected time
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave the server running past the test
            proc.wait()
            raise
        finally:
            proc.stdout.close()
        assert code == 0


# ----------------------------------------------------------------------------- fault injection


def test_fault_rule_is_deterministic_and_splits_paths_by_share():
    from demo_site.site import Fault

    rule = Fault(scope="articles", error_share=0.3, slow_share=0.2, delay=1)
    paths = [f"/news/story-{i}" for i in range(3000)]
    outcomes = Counter(rule.outcome(p, "article") for p in paths)
    assert abs(outcomes["error"] / len(paths) - 0.3) < 0.04 and abs(outcomes["slow"] / len(paths) - 0.2) < 0.04
    assert [rule.outcome(p, "article") for p in paths] == [rule.outcome(p, "article") for p in paths]
    assert {rule.outcome(p, "document") for p in paths} == {None}, "out of scope"
    assert {rule.outcome(p, None) for p in paths} == {None}
    other_salt = Fault(scope="articles", error_share=0.3, slow_share=0.2, delay=1, salt="other")
    assert [rule.outcome(p, "article") for p in paths] != [other_salt.outcome(p, "article") for p in paths]
    for bad in ({"scope": "pages"}, {"error_share": 0.7, "slow_share": 0.5, "delay": 1}, {"status": 200},
                {"slow_share": 0.5}):  # fmt: skip
        with pytest.raises(ValueError):
            Fault(**bad)
    with pytest.raises(ValueError, match="unknown publishers"):
        DemoSite(ANCHOR, faults={"nowhere": Fault()})


def test_faults_apply_to_one_publisher_and_are_logged():
    from demo_site.site import Fault

    faults = {"eastmere": Fault(scope="all", error_share=0.5, retry_after=7, slow_share=0.5, delay=0.4)}
    with DemoSite(ANCHOR, faults=faults) as site:
        pub = site.site.publisher("eastmere")
        base = site.base_urls["eastmere"]
        paths = [pub.feed_path, pub.sitemap_path] + [a.path for a in site.site.articles_of("eastmere")]
        kinds = {p: site.fault_for("eastmere", p)[0] for p in paths}  # scope "all", shares add up to 1
        assert set(kinds.values()) == {"error", "slow"}
        for path, kind in kinds.items():
            started = time.monotonic()
            status, headers, body = fetch(base + path)
            took = time.monotonic() - started
            if kind == "error":
                assert (status, headers["retry-after"]) == (503, "7") and b"Service Unavailable" in body
                assert fetch(base + path)[0] == 503, "every time"
            else:
                assert status == 200 and took >= 0.4 and body == site.site.files("eastmere", base)[path][1]
        assert fetch(base + "/robots.txt")[0] == 200 and fetch(base + "/")[0] == 200, "out of scope"
        for name in ("millbrook", "portcalder"):
            assert site.fault_for(name, site.site.articles_of(name)[0].path) is None
            assert all(fetch(site.url(a))[0] == 200 for a in site.site.articles_of(name))
        faulted = Counter((p, o) for pub_, _, p, o in site.fault_log if pub_ == "eastmere")
        assert faulted == Counter({(p, k): 2 if k == "error" else 1 for p, k in kinds.items()})
        assert {pub_ for pub_, *_ in site.fault_log} == {"eastmere"}


def test_slow_faults_are_bounded_and_end_with_the_site():
    from demo_site.site import Fault

    before = {t.ident for t in threading.enumerate()}
    site = DemoSite(ANCHOR, faults={"millbrook": Fault(slow_share=1.0, delay=60)}, max_slow=2).start()
    try:
        urls = [site.url(a) for a in site.site.articles_of("millbrook")[:2]]
        conns = []
        for url in urls:  # two clients wait on slow answers, holding both slots
            parts = urlsplit(url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            conn.request("GET", parts.path)
            conns.append(conn)
        deadline = time.monotonic() + 30
        while len(site.fault_log) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        status, headers, _ = fetch(site.url(site.site.articles_of("millbrook")[2]))
        # budgets far under the 60 s a held answer takes, not idle figures: the machine may be busy
        assert status == 503 and time.monotonic() - started < 15, "a third slow answer is refused at once"
        assert [o for *_, o in site.fault_log] == ["slow", "slow", "shed"]
        assert fetch(site.base_urls["eastmere"] + "/")[0] == 200, "other publishers keep answering"
    finally:
        started = time.monotonic()
        site.stop()
    assert time.monotonic() - started < 20, "stopping wakes the held handlers"
    assert [c.getresponse().status for c in conns] == [200, 200], "they answer when woken"
    for conn in conns:
        conn.close()
    assert {t.ident for t in threading.enumerate()} <= before, "no handler outlives the site"
