"""python -m cleaners extract|strip|warc — JSON Lines on stdout, one object per input, in order."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from .article import Article
from .decode import DecodeError, read_file
from .extract import clean_html
from .repeats import BoilerplateState
from .text import strip_text


def _record(art: Article, **extra: Any) -> dict[str, Any]:
    return {**extra, **art.to_dict()}


def _emit(obj: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def _manifest(path: str) -> Iterator[tuple[str | None, str | None, str | None]]:
    """(path, url, error) per manifest line; a bad line yields an error entry, not an exception."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                yield entry["path"], entry.get("url"), None
            except (ValueError, KeyError, TypeError) as err:
                yield None, None, f"bad manifest line {n}: {err}"


def cmd_extract(args: argparse.Namespace, out: TextIO) -> int:
    items: list[tuple[str | None, str | None, str | None]] = [(f, args.url, None) for f in args.files]
    if args.manifest:
        items = [*items, *_manifest(args.manifest)]
    state = None
    if args.state:
        with open(args.state, "rb") as fh:
            state = BoilerplateState.from_json(fh.read())
    for path, url, error in items:
        reason = "unreadable"
        if error is None:
            try:
                data = read_file(path)  # type: ignore[arg-type]
            except DecodeError as err:
                error, reason = f"unreadable: {err}", err.reason
            except (OSError, ValueError) as err:
                error = f"unreadable: {err}"
        if error is not None:
            _emit(
                {"path": path, "url": url, "title": None, "text": "", "removed": [], "error": error, "reason": reason},
                out,
            )
            continue
        _emit(_record(clean_html(data, url=url, source=args.source, state=state), path=path), out)
    return 0


def cmd_strip(args: argparse.Namespace, out: TextIO) -> int:
    text, removed = strip_text(sys.stdin.read())
    out.write(text)
    if args.explain:
        for r in removed:
            sys.stderr.write(f"[{r.layer}] {r.rule}: {r.text}\n")
        sys.stderr.write(f"{len(removed)} removal(s)\n")
    return 0


def cmd_warc(args: argparse.Namespace, out: TextIO) -> int:
    from warcio.archiveiterator import ArchiveIterator

    with open(args.file, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "response":
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            try:
                ctype = record.http_headers.get_header("Content-Type") if record.http_headers else None
                data = record.content_stream().read()
            except Exception as err:  # noqa: BLE001 - a broken record must not stop the run
                error = f"bad record: {err}"
                _emit(
                    {"url": url, "title": None, "text": "", "removed": [], "error": error, "reason": "unreadable"}, out
                )
                continue
            # the same decoding as the pipeline's clean stage: BOM, this header's charset, <meta>, detection
            art = clean_html(data, url=url, source=args.source, content_type=ctype)
            _emit(_record(art, record_id=record.rec_headers.get_header("WARC-Record-ID")), out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cleaners", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract", help="clean .html/.html.gz files to JSON Lines")
    e.add_argument("files", nargs="*", metavar="FILE")
    e.add_argument("--url", help="URL of the page(s) given as FILE")
    e.add_argument("--source", help="source name: per-source cleaning rules from the sources YAML")
    e.add_argument("--manifest", help='JSON Lines of {"path": ..., "url": ...}')
    e.add_argument("--state", help="BoilerplateState JSON to apply (cross-article layer)")
    s = sub.add_parser("strip", help="plain text on stdin -> text without appeals on stdout")
    s.add_argument("--explain", action="store_true", help="print removals and their rules to stderr")
    w = sub.add_parser("warc", help="one JSON line per response record of a WARC file")
    w.add_argument("file", metavar="FILE.warc.gz")
    w.add_argument("--source")
    return p


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    if args.cmd == "extract":
        if not args.files and not args.manifest:
            build_parser().error("extract needs FILE... or --manifest")
        return cmd_extract(args, out)
    if args.cmd == "strip":
        return cmd_strip(args, out)
    return cmd_warc(args, out)
