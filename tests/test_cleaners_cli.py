"""The `python -m cleaners` command line: extract, --manifest, strip, --explain, warc."""

from __future__ import annotations

import gzip
import io
import json
import os
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


def _main(argv: list[str], capsys) -> tuple[int, list[dict], str]:
    out = io.StringIO()
    code = main(argv, out=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], capsys.readouterr().err


def test_every_record_has_the_same_keys_and_a_batch_that_all_failed_exits_1(files: dict[str, Path], capsys) -> None:
    code, rows, err = _main(["extract", str(files["plain"]), str(files["broken"]), "/nope.html"], capsys)
    assert code == 0 and err == "python -m cleaners extract: 2 of 3 inputs failed\n"
    assert len({tuple(sorted(r)) for r in rows}) == 1, [sorted(r) for r in rows]
    assert rows[2]["error"] == "unreadable: No such file or directory" and rows[2]["text"] == ""

    code, rows, err = _main(["extract", "/nope.html", str(files["binary"])], capsys)
    assert code == 1 and len(rows) == 2 and all(r["error"] for r in rows)
    assert err == "python -m cleaners extract: 2 of 2 inputs failed\n"


def test_warc_records_have_the_same_keys_whatever_happened(tmp_path: Path, capsys) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "crawl.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body in [("https://ledger.example/1", ARTICLE), ("https://ledger.example/2", b"")]:
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=headers))  # fmt: skip
    code, rows, _ = _main(["warc", str(path)], capsys)
    assert code == 0 and [r["error"] for r in rows] == [None, "empty document"]
    assert len({tuple(sorted(r)) for r in rows}) == 1 and "record_id" in rows[0]


def _usage_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    article = str(DATA / "article.html")
    not_warc = tmp_path / "x.warc.gz"
    not_warc.write_text("not a warc\n")
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: ledger\n    feeds: [https://ledger.example/rss]\n")
    return {
        "warc missing": (["warc", "/nope.warc.gz"], "warc: error: /nope.warc.gz: cannot read it: No such file"),
        "not a warc": (["warc", str(not_warc)], f"warc: error: {not_warc}: not a readable WARC file: "),
        "state missing": (["extract", "--state", "/nope.json", article], "error: --state /nope.json: cannot read it"),
        "state not json": (["extract", "--state", article, article], f"error: --state {article}: not a boilerplate"),
        "manifest missing": (["extract", "--manifest", "/nope.jsonl"], "error: --manifest /nope.jsonl: cannot read"),
        "unknown source": (["extract", "--source", "nope", "--sources", str(sources), article],
                           f"error: {sources}: no source named 'nope'; known: ['ledger']"),
        "sources alone": (["extract", "--sources", str(sources), article], "error: --sources FILE needs --source"),
        "nothing to do": (["extract"], "error: extract needs FILE... or --manifest FILE"),
    }  # fmt: skip


@pytest.mark.parametrize(
    "case", ["warc missing", "not a warc", "state missing", "state not json", "manifest missing", "unknown source",
             "sources alone", "nothing to do"],
)  # fmt: skip
def test_a_user_error_is_one_line_and_exit_status_2(case: str, tmp_path: Path, capsys) -> None:
    argv, expected = _usage_cases(tmp_path)[case]
    code, rows, err = _main(argv, capsys)
    assert (code, rows) == (2, [])
    assert err.startswith("python -m cleaners ") and err.count("\n") == 1 and expected in err, err


def test_sources_file_gives_the_source_its_cleaning_rules(tmp_path: Path, capsys) -> None:
    page = tmp_path / "page.html"
    note = "Readers of this edition can collect their loyalty stamp at the front desk until Friday noon."
    stamp = f"<div class='ledger-stamp'><p>{note}</p></div></article>"
    page.write_bytes(ARTICLE.replace(b"</article>", stamp.encode()))
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - name: ledger\n    feeds: [https://ledger.example/rss]\n"
        "    cleaning: {prune_css: ['.ledger-stamp']}\n"
    )
    _, plain, _ = _main(["extract", str(page)], capsys)
    code, ruled, _ = _main(["extract", "--source", "ledger", "--sources", str(sources), str(page)], capsys)
    assert code == 0 and note in plain[0]["text"] and note not in ruled[0]["text"]
    assert "Alder River" in ruled[0]["text"]


def test_help_runs_nothing(tmp_path: Path) -> None:
    for module in ("cleaners", "localrun.demo", "localrun.local_airflow"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
            env={**os.environ, "HOME": str(tmp_path)},
        )  # fmt: skip
        assert done.returncode == 0 and done.stdout.startswith("usage: python -m "), (module, done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "--help wrote files"
