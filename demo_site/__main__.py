"""python -m demo_site [--anchor YYYY-MM-DD] [--sources-out FILE]: serve the demo site until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from datetime import UTC, date, datetime

from .server import DemoSite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_site", description=__doc__)
    parser.add_argument(
        "--anchor",
        type=date.fromisoformat,
        default=None,
        help="newest publication day, YYYY-MM-DD (default: today, UTC)",
    )
    parser.add_argument("--sources-out", metavar="FILE", help="write a sources.yaml for the running site")
    parser.add_argument("--host-prefix", default="127.0.0", help="first three octets of the loopback IPs")
    args = parser.parse_args(argv)

    anchor = args.anchor or datetime.now(UTC).date()
    try:  # Ctrl-C may come at any point once the site is up, even before the wait
        with DemoSite(anchor, host_prefix=args.host_prefix) as demo:
            print(f"demo site for anchor {anchor.isoformat()}:", flush=True)
            for pub in demo.site.publishers:
                print(f"  {pub.name:<12} {demo.base_urls[pub.name]}/  ({pub.title})", flush=True)
            if args.sources_out:
                print(f"sources written to {demo.write_sources(args.sources_out)}", flush=True)
            print("Ctrl-C to stop.", flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
