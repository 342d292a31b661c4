"""`scrapy crawl news …` with its arguments checked before Scrapy starts.

A wrong argument is a user error: one line saying what is wrong and exit status 2, instead of a traceback
from inside the spider's constructor (which Scrapy's asyncio runner reports as an unretrieved task error).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from scrapy.commands.crawl import Command as ScrapyCrawl

USAGE = (
    "usage: scrapy crawl news -a source=NAME -a start=YYYY-MM-DD -a end=YYYY-MM-DD "
    "[-a out=DIR|s3://bucket/prefix] [-a sources=FILE]"
)
ARGUMENTS = ("source", "start", "end", "out", "sources")


def check_news_arguments(spargs: dict[str, str]) -> None:
    """Raise ValueError with a one-line message if the news spider's `-a` arguments cannot work."""
    from newsconfig.sources import get_source

    unknown = sorted(set(spargs) - set(ARGUMENTS))
    if unknown:
        raise ValueError(f"unknown argument(s) {', '.join(unknown)}; {USAGE}")
    missing = [name for name in ("source", "start", "end") if not spargs.get(name)]
    if missing:
        raise ValueError(f"missing {', '.join('-a ' + m + '=…' for m in missing)}; {USAGE}")
    days = {}
    for name in ("start", "end"):
        try:
            days[name] = date.fromisoformat(spargs[name])
        except ValueError as err:
            raise ValueError(f"{name}={spargs[name]!r} is not a date YYYY-MM-DD ({err})") from None
    if days["end"] <= days["start"]:
        raise ValueError(f"end={days['end']} must be after start={days['start']} (the window is [start, end))")
    get_source(spargs["source"], spargs.get("sources"))  # SourceConfigError names the file and the known names


class Command(ScrapyCrawl):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if args[:1] == ["news"]:
            try:
                check_news_arguments(opts.spargs)
            except ValueError as err:
                print(f"scrapy crawl news: error: {err}", file=sys.stderr)
                sys.exit(2)
