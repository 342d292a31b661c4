"""Semantic HTML5 look: <main><article> with <section class="story-body">, local times with offset.

Appeals use generic landmark markup (<aside role="complementary" class="box">, <section
class="newsletter">), so a cleaner cannot rely on class names alone.
"""

from __future__ import annotations

from ..model import Article
from .common import Ctx, e, ea, inline_appeal, link_list, paragraphs_with_inserts, share_links


def _head(ctx: Ctx, title: str, canonical: str, extra: str = "") -> str:
    pub = ctx.pub
    return f"""<!doctype html>
<html lang="{pub.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{e(title)} | {e(pub.title)}</title>
<link rel="canonical" href="{ea(canonical)}">
<meta property="og:site_name" content="{ea(pub.title)}">
<meta property="og:title" content="{ea(title)}">
<meta property="og:url" content="{ea(canonical)}">
<meta name="twitter:card" content="summary_large_image">
{extra}<link rel="alternate" type="application/atom+xml" title="{ea(pub.title)}"
 href="{ea(ctx.url(pub.feed_path))}">
</head>
"""


def _header(ctx: Ctx, current: str = "") -> str:
    pub = ctx.pub
    items = "".join(
        f'<li><a href="{ea(ctx.url(pub.section_url_path(s)))}"'
        + (' aria-current="page"' if s == current else "")
        + f">{e(s)}</a></li>"
        for s in pub.sections
    )
    return f"""<body>
<a class="visually-hidden" href="#main">Skip to main content</a>
<header class="masthead">
<a class="masthead__logo" href="{ea(ctx.url("/"))}">{e(pub.title)}</a>
<nav class="masthead__nav" aria-label="Sections"><ul>{items}</ul></nav>
<a class="masthead__account" href="{ea(ctx.url("/membership/"))}">Sign in</a>
</header>
<dialog class="consent" open aria-labelledby="consent-title">
<h2 id="consent-title">Your privacy</h2>
<p>{e(ctx.appeals.cookie_text)}</p>
<form method="dialog"><button value="accept">Accept all</button>
<button value="manage">Manage preferences</button></form>
</dialog>
"""


def _footer(ctx: Ctx) -> str:
    return f"""<footer class="site-footer">
<nav aria-label="Footer"><ul>
<li><a href="{ea(ctx.url("/about/"))}">About the Ledger</a></li>
<li><a href="{ea(ctx.url("/privacy/"))}">Privacy notice</a></li>
<li><a href="{ea(ctx.url("/membership/"))}">Membership</a></li>
<li><a href="{ea(ctx.url(ctx.pub.feed_path))}">Atom feed</a></li>
</ul></nav>
<p><small>&copy; {ctx.year} {e(ctx.pub.title)} Ltd. Registered in England and Wales.</small></p>
</footer>
</body>
</html>
"""


def _donation(ctx: Ctx) -> str:
    ap = ctx.appeals
    heading, *paras = (ap.donation_heading, *ap.donation_paragraphs)
    body = "\n".join(f"<p>{e(p)}</p>" for p in paras)
    return f"""<aside role="complementary" class="box">
<h2>{e(heading)}</h2>
{body}
<p><a class="btn btn--primary" href="{ea(ctx.url("/support/"))}">{e(ap.donation_cta)}</a>
<button type="button" class="btn btn--link">{e(ap.donation_dismiss)}</button></p>
</aside>"""


def _newsletter(ctx: Ctx) -> str:
    heading, blurb, label, button, note = ctx.appeals.newsletter
    return f"""<section class="signup" aria-labelledby="signup-title">
<h2 id="signup-title">{e(heading)}</h2>
<p>{e(blurb)}</p>
<form action="{ea(ctx.url("/newsletter/"))}" method="post">
<label>{e(label)} <input type="email" name="email" autocomplete="email"></label>
<button>{e(button)}</button>
</form>
<p><small>{e(note)}</small></p>
</section>"""


def _membership(ctx: Ctx) -> str:
    heading, body, cta = ctx.appeals.membership
    return f"""<div class="promo">
<h3>{e(heading)}</h3>
<p>{e(body)}</p>
<a href="{ea(ctx.url("/membership/"))}">{e(cta)}</a>
</div>"""


def article_page(ctx: Ctx, a: Article) -> str:
    canonical = ctx.url(a.path)
    local = ctx.local(a.published)
    local_mod = ctx.local(a.last_modified)
    shown = local.strftime("%a %-d %b %Y %H.%M")
    meta = (
        '<meta property="og:type" content="article">\n'
        f'<meta name="description" content="{ea(a.summary)}">\n'
        f'<meta property="article:published_time" content="{local.isoformat(timespec="seconds")}">\n'
        f'<meta property="article:modified_time" content="{local_mod.isoformat(timespec="seconds")}">\n'
        f'<meta property="article:section" content="{ea(a.section)}">\n'
        f'<meta property="article:author" content="{ea(a.author)}">\n'
    )
    # the inline appeal sits before the second-to-last paragraph, as the Ledger's CMS places it
    body = paragraphs_with_inserts(a.paragraphs, {len(a.paragraphs) - 2: inline_appeal(ctx, a)})
    shares = "\n".join(
        f'<li><a href="{ea(href)}" rel="noopener" target="_blank">{e(label)}</a></li>'
        if not href.startswith("#")
        else f'<li><button type="button" data-copy="{ea(canonical)}">{e(label)}</button></li>'
        for label, href in share_links(ctx, a)
    )
    author_url = ctx.url(ctx.pub.author_url_path(a.author) or "/")
    section_url = ctx.url(ctx.pub.section_url_path(a.section))
    return (
        _head(ctx, a.title, canonical, meta)
        + _header(ctx, a.section)
        + f"""<main id="main">
<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>
<li><a href="{ea(ctx.url("/"))}">Home</a></li>
<li><a href="{ea(section_url)}">{e(a.section)}</a></li>
<li aria-current="page">{e(a.title)}</li>
</ol></nav>
<article class="story">
<header class="story__header">
<p class="story__kicker"><a href="{ea(section_url)}">{e(a.section)}</a></p>
<h1>{e(a.title)}</h1>
<p class="story__standfirst">{e(a.summary)}</p>
<p class="story__byline">By <a rel="author" href="{ea(author_url)}">{e(a.author)}</a></p>
<p class="story__dateline"><time datetime="{local.isoformat(timespec="seconds")}">{shown}</time></p>
<ul class="share" aria-label="Share this story">
{shares}
</ul>
</header>
<section class="story-body">
{body}
{_donation(ctx)}
</section>
<footer class="story__footer">
{_membership(ctx)}
</footer>
</article>
{_newsletter(ctx)}
<section class="related" aria-labelledby="related-title">
<h2 id="related-title">Related stories</h2>
{link_list(ctx, ctx.related(a))}
</section>
<section class="most-read" aria-labelledby="most-read-title">
<h2 id="most-read-title">Most read</h2>
<ol>{"".join(f'<li><a href="{ea(ctx.url(r.path))}">{e(r.title)}</a></li>' for r in ctx.most_read(a))}</ol>
</section>
</main>
"""
        + _footer(ctx)
    )


def page(ctx: Ctx, path: str, title: str, body: str) -> str:
    return (
        _head(ctx, title, ctx.url(path))
        + _header(ctx)
        + f"""<main id="main">
<h1>{e(title)}</h1>
{body}
</main>
"""
        + _footer(ctx)
    )
