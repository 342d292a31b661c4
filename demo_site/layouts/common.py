"""Helpers shared by the three page layouts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from ..content import APPEALS, Appeals
from ..model import Article, Publisher
from ..site import Site


def e(text: str) -> str:
    """Escape for text nodes; quotes stay literal so the served text reads like the ground truth."""
    return escape(text, quote=False)


def ea(text: str) -> str:
    """Escape for attribute values."""
    return escape(text, quote=True)


@dataclass
class Ctx:
    """Everything a layout needs to render one publisher's pages for one base URL."""

    site: Site
    pub: Publisher
    base_url: str
    articles: list[Article] = field(init=False)  # newest first

    def __post_init__(self) -> None:
        self.articles = self.site.articles_of(self.pub.name)

    @property
    def appeals(self) -> Appeals:
        return APPEALS[self.pub.name]

    @property
    def year(self) -> int:
        return self.site.anchor.year

    def url(self, path: str) -> str:
        return self.base_url + path

    def local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.pub.tz)

    def related(self, article: Article, n: int = 3) -> list[Article]:
        """Same-section stories first, then the newest others; never the article itself."""
        others = [a for a in self.articles if a.path != article.path]
        others.sort(key=lambda a: a.section != article.section)  # stable: keeps newest-first within groups
        return others[:n]

    def most_read(self, article: Article, n: int = 4) -> list[Article]:
        # deterministic "popularity": rotate the list so each page shows a different top item
        others = [a for a in self.articles if a.path != article.path]
        shift = len(article.slug) % max(len(others), 1)
        return (others[shift:] + others[:shift])[:n]


def link_list(ctx: Ctx, articles: list[Article], ul_attrs: str = "") -> str:
    items = "".join(f'<li><a href="{ea(ctx.url(a.path))}">{e(a.title)}</a></li>\n' for a in articles)
    return f"<ul{ul_attrs}>\n{items}</ul>"


def paragraphs_with_inserts(paragraphs: list[str], inserts: dict[int, str]) -> str:
    """Article paragraphs as <p>, with extra blocks placed before the paragraph at each index."""
    out = []
    for i, text in enumerate(paragraphs):
        if i in inserts:
            out.append(inserts[i])
        out.append(f"<p>{e(text)}</p>")
    return "\n".join(out)


def inline_appeal(ctx: Ctx, article: Article, p_attrs: str = "") -> str:
    lead, body, link = ctx.appeals.inline_variants[article.appeal_variant % len(ctx.appeals.inline_variants)]
    href = ea(ctx.url("/support/"))
    return f'<p{p_attrs}><strong>{e(lead)}</strong> {e(body)} <a href="{href}">{e(link)}</a></p>'


def share_links(ctx: Ctx, article: Article) -> list[tuple[str, str]]:
    """(label, href) for the share buttons; external hosts are never fetched by the crawler."""
    u = ctx.url(article.path)
    return [
        ("Share on X", f"https://x.com/intent/post?url={u}"),
        ("Facebook", f"https://www.facebook.com/sharer/sharer.php?u={u}"),
        ("Copy link", "#copy-link"),
    ]


def teaser_list(ctx: Ctx, articles: list[Article], date_fmt: str) -> str:
    if not articles:
        return "<p>There are no stories in this section yet.</p>"
    items = []
    for a in articles:
        when = ctx.local(a.published)
        items.append(
            f'<li><h3><a href="{ea(ctx.url(a.path))}">{e(a.title)}</a></h3>\n'
            f"<p>{e(a.summary)}</p>\n"
            f'<time datetime="{when.isoformat(timespec="seconds")}">{when.strftime(date_fmt)}</time></li>\n'
        )
    return '<ul class="teasers">\n' + "".join(items) + "</ul>"


STATIC_PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "/about/": (
        "About us",
        (
            "{title} is an independent local news publisher. Our newsroom covers councils, courts, "
            "schools, business and sport for the communities we serve.",
            "Corrections can be sent to the news desk at any time; we publish every correction we make.",
        ),
    ),
    "/privacy/": (
        "Privacy and cookies",
        (
            "We collect as little personal data as we can. Newsletter addresses are used only to send the "
            "newsletter you asked for.",
            "Cookies remember your preferences and help us count visitors. You can refuse non-essential "
            "cookies without losing access to any story.",
        ),
    ),
    "/support/": (
        "Support {title}",
        (
            "Reader contributions pay for most of our reporting. One-off and monthly contributions can be "
            "made by card or bank transfer.",
            "Thank you to everyone who already supports us.",
        ),
    ),
    "/membership/": (
        "Membership",
        (
            "Membership gives you ad-free reading and invitations to members' events.",
            "You can cancel your membership at any time from your account page.",
        ),
    ),
}
