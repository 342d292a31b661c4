"""The `python -m cleaners` command line: extract, --manifest, strip, --explain, warc."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cleaners.cli import main

DATA = Path(__file__).parent / "data" / "cleaners"
ARTICLE = (DATA / "article.html").read_bytes()
APPEAL = "If you value independent journalism, please support us with a donation today. Every contribution helps."
NEWS = "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River."


def run(argv: list[str]) -> list[dict]:
    out = io.StringIO()
    assert main(argv, out=out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    plain = tmp_path / "a.html"
    plain.write_bytes(ARTICLE)
    gz = tmp_path / "b.html.gz"
    gz.write_bytes(gzip.compress(ARTICLE))
    broken = tmp_path / "c.html.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage-not-gzip")
    binary = tmp_path / "d.html"
    binary.write_bytes(b"\x00\x01\x02\x03" * 100)
    return {"plain": plain, "gz": gz, "broken": broken, "binary": binary}


def test_extract_files_in_order_with_errors(files: dict[str, Path]) -> None:
    paths = [files["plain"], files["broken"], files["gz"], files["binary"], files["plain"].with_name("missing")]
    rows = run(["extract", "--url", "https://ledger.example/x", *map(str, paths)])
    assert [r["path"] for r in rows] == [str(p) for p in paths]
    for r in rows:
        assert {"path", "url", "title", "text", "removed"} <= set(r)
    ok = [rows[0], rows[2]]
    for r in ok:
        assert r["error"] is None and "Alder River" in r["text"] and "Support our newsroom" not in r["text"]
        assert r["url"] == "https://ledger.example/x"
        assert any(x["rule"] == "structure:token:class=donate" for x in r["removed"])
    assert rows[0]["text"] == rows[2]["text"]
    assert all(r["error"] for r in rows[1:2] + rows[3:])


def test_extract_manifest(files: dict[str, Path], tmp_path: Path) -> None:
    manifest = tmp_path / "list.jsonl"
    lines = [
        {"path": str(files["gz"]), "url": "https://ledger.example/1"},
        {"path": str(files["broken"]), "url": "https://ledger.example/2"},
        {"path": str(files["plain"]), "url": "https://ledger.example/3"},
    ]
    manifest.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    rows = run(["extract", "--manifest", str(manifest)])
    assert [r["url"] for r in rows[:3]] == [x["url"] for x in lines]
    assert rows[0]["error"] is None and rows[1]["error"] and rows[2]["error"] is None
    assert rows[3]["error"].startswith("bad manifest line")


def test_strip_and_explain() -> None:
    text = f"{NEWS}\n{APPEAL}\n{NEWS.replace('Tuesday', 'Monday')}\n"
    proc = subprocess.run(
        [sys.executable, "-m", "cleaners", "strip", "--explain"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert proc.stdout == f"{NEWS}\n{NEWS.replace('Tuesday', 'Monday')}\n"
    assert "appeal:" in proc.stderr and "support us" in proc.stderr


def test_warc(tmp_path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "crawl.warc.gz"
    latin = ARTICLE.decode("utf-8").replace('<meta charset="utf-8">', "").replace("Alder", "Aldér")
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, ctype in [
            ("https://ledger.example/1", ARTICLE, "text/html; charset=utf-8"),
            ("https://ledger.example/2", latin.encode("cp1252"), "text/html; charset=windows-1252"),
            ("https://ledger.example/3", b"", "text/html"),
        ]:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            )
        writer.write_record(
            writer.create_warc_record(
                "https://ledger.example/1", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            )
        )
    rows = run(["warc", str(path)])
    assert [r["url"] for r in rows] == [f"https://ledger.example/{i}" for i in (1, 2, 3)]
    assert "Alder River" in rows[0]["text"] and "Aldér River" in rows[1]["text"]
    assert rows[2]["error"] == "empty document"
