"""A local demo news site: three fictional publishers served from generated fixtures.

`build_site(anchor)` returns the ground-truth model (pure, no I/O); `DemoSite(anchor)` serves it over
HTTP on loopback addresses for `make demo` and the tests.
"""

from .model import Article, Publisher
from .server import DemoSite
from .site import Site, build_site

__all__ = ["Article", "DemoSite", "Publisher", "Site", "build_site"]
