"""One module per page layout; each exposes article_page(ctx, article) and page(ctx, path, title, body)."""

from types import ModuleType

from . import html5, legacy, wordpress
from .common import Ctx

LAYOUTS: dict[str, ModuleType] = {"wordpress": wordpress, "html5": html5, "legacy": legacy}

__all__ = ["LAYOUTS", "Ctx"]
