"""python -m cleaners extract|strip|warc — JSON Lines on stdout, one object per input, in order.

Every object has the same keys (an input that fails has `error` set and empty text). A user error (a file
that cannot be read, a bad --state file, an unknown --source) is one line on stderr and exit status 2; a
batch in which every input failed exits 1; otherwise 0, with the count of failed inputs on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections.abc import Iterator
from typing import Any, TextIO

from .article import Article
from .decode import DecodeError, read_file
from .extract import clean_html
from .repeats import BoilerplateState
from .text import strip_text


class UsageError(Exception):
    """A mistake in the command line or its files: reported as one line, exit status 2."""


class Batch:
    """Writes the records of one command and counts the failed ones."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.total, self.failed = out, 0, 0

    def emit(self, art: Article, **extra: Any) -> None:
        self.total += 1
        self.failed += art.error is not None
        self.out.write(json.dumps({**extra, **art.to_dict()}, ensure_ascii=False) + "\n")
        self.out.flush()

    def status(self, command: str) -> int:
        if self.failed:
            sys.stderr.write(f"python -m cleaners {command}: {self.failed} of {self.total} inputs failed\n")
        return 1 if self.total and self.failed == self.total else 0


def _open(path: str, what: str, mode: str = "r") -> Any:
    """`open`, with a failure as a UsageError naming the option and the file."""
    try:
        return open(path, mode, **({} if "b" in mode else {"encoding": "utf-8"}))  # noqa: SIM115 - caller closes
    except OSError as err:
        raise UsageError(f"{what} {path}".strip() + f": cannot read it: {err.strerror or err}") from None


def _manifest(path: str) -> Iterator[tuple[str | None, str | None, str | None]]:
    """(path, url, error) per manifest line; a bad line yields an error entry, not an exception."""
    fh = _open(path, "--manifest")  # before the first record: a missing manifest is a usage error
    return _manifest_lines(fh)


def _manifest_lines(fh: TextIO) -> Iterator[tuple[str | None, str | None, str | None]]:
    with fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                yield entry["path"], entry.get("url"), None
            except (ValueError, KeyError, TypeError) as err:
                yield None, None, f"bad manifest line {n}: {err}"


def _state(path: str) -> BoilerplateState:
    with _open(path, "--state", "rb") as fh:
        try:
            return BoilerplateState.from_json(fh.read())
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise UsageError(f"--state {path}: not a boilerplate state file: {err}") from None


def _rules(args: argparse.Namespace) -> Any:
    """What `clean_html` takes as `source`: the source's cleaning rules from --sources, or its name."""
    if args.sources and not args.source:
        raise UsageError("--sources FILE needs --source NAME: the source whose cleaning rules apply")
    if not args.source:
        return None
    from newsconfig.sources import SourceConfigError, get_source

    try:
        return dict(get_source(args.source, args.sources).cleaning)  # --sources, else NEWS_SOURCES
    except SourceConfigError as err:
        raise UsageError(str(err)) from None


def cmd_extract(args: argparse.Namespace, out: TextIO) -> int:
    items: list[tuple[str | None, str | None, str | None]] = [(f, args.url, None) for f in args.files]
    if args.manifest:
        items = [*items, *_manifest(args.manifest)]
    state = _state(args.state) if args.state else None
    rules = _rules(args)
    batch = Batch(out)
    for path, url, error in items:
        reason = "unreadable"
        if error is None:
            try:
                data = read_file(path)  # type: ignore[arg-type]
            except DecodeError as err:
                error, reason = f"unreadable: {err}", err.reason
            except (OSError, ValueError) as err:
                error = f"unreadable: {getattr(err, 'strerror', None) or err}"
        if error is not None:
            batch.emit(Article(url=url).reject(reason, error), path=path)
            continue
        batch.emit(clean_html(data, url=url, source=rules, state=state), path=path)
    return batch.status("extract")


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
    from warcio.exceptions import ArchiveLoadFailed

    rules, batch = _rules(args), Batch(out)
    with _open(args.file, "", "rb") as fh:
        try:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                record_id = record.rec_headers.get_header("WARC-Record-ID")
                try:
                    ctype = record.http_headers.get_header("Content-Type") if record.http_headers else None
                    data = record.content_stream().read()
                except Exception as err:  # noqa: BLE001 - a broken record must not stop the run
                    batch.emit(Article(url=url).reject("unreadable", f"bad record: {err}"), record_id=record_id)
                    continue
                # the same decoding as the pipeline's clean stage: BOM, this header's charset, <meta>, detection
                art = clean_html(data, url=url, source=rules, content_type=ctype)
                batch.emit(art, record_id=record_id)
        except (ArchiveLoadFailed, OSError, EOFError, zlib.error) as err:  # not a WARC, or broken after some records
            if not batch.total:
                raise UsageError(f"{args.file}: not a readable WARC file: {err}") from None
            error = f"unreadable WARC after {batch.total} records: {err}"
            batch.emit(Article().reject("unreadable", error), record_id=None)
    return batch.status("warc")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cleaners", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract", help="clean .html/.html.gz files to JSON Lines")
    e.add_argument("files", nargs="*", metavar="FILE")
    e.add_argument("--url", help="URL of the page(s) given as FILE")
    e.add_argument("--source", help="source name: its cleaning rules from the sources file")
    e.add_argument("--sources", metavar="FILE", help="the sources file (default: NEWS_SOURCES, else sources.yaml)")
    e.add_argument("--manifest", help='JSON Lines of {"path": ..., "url": ...}')
    e.add_argument("--state", help="BoilerplateState JSON to apply (cross-article layer)")
    s = sub.add_parser("strip", help="plain text on stdin -> text without appeals on stdout")
    s.add_argument("--explain", action="store_true", help="print removals and their rules to stderr")
    w = sub.add_parser("warc", help="one JSON line per response record of a WARC file")
    w.add_argument("file", metavar="FILE.warc.gz")
    w.add_argument("--source", help="source name: its cleaning rules from the sources file")
    w.add_argument("--sources", metavar="FILE", help="the sources file (default: NEWS_SOURCES, else sources.yaml)")
    return p


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = out or sys.stdout
    try:
        if args.cmd == "extract":
            if not args.files and not args.manifest:
                raise UsageError("extract needs FILE... or --manifest FILE")
            return cmd_extract(args, out)
        if args.cmd == "strip":
            return cmd_strip(args, out)
        return cmd_warc(args, out)
    except UsageError as err:
        sys.stderr.write(f"python -m cleaners {args.cmd}: error: {err}\n")
        return 2
