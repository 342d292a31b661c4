"""WordPress-theme look: #page > #masthead, <article class="post"> with <div class="entry-content">.

Appeals here carry telltale class names (donate-banner, newsletter-signup, widget_membership), the
easy case for a cleaner.
"""

from __future__ import annotations

from ..model import Article
from .common import Ctx, e, ea, inline_appeal, link_list, paragraphs_with_inserts, share_links

_CSS = "body{font-family:Georgia,serif}.donate-banner{background:#fff4d6;padding:1em}"


def _head(ctx: Ctx, title: str, canonical: str, extra: str = "") -> str:
    pub = ctx.pub
    return f"""<!DOCTYPE html>
<html lang="{pub.locale}">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} &#8211; {e(pub.title)}</title>
<link rel="canonical" href="{ea(canonical)}">
<meta property="og:locale" content="{pub.locale.replace("-", "_")}">
<meta property="og:site_name" content="{ea(pub.title)}">
<meta property="og:title" content="{ea(title)}">
<meta property="og:url" content="{ea(canonical)}">
{extra}<link rel="alternate" type="application/rss+xml" title="{ea(pub.title)} &raquo; Feed"
 href="{ea(ctx.url(pub.feed_path))}">
<meta name="generator" content="WordPress 6.5.3">
<style id="theme-inline-css">{_CSS}</style>
</head>
"""


def _header(ctx: Ctx) -> str:
    pub = ctx.pub
    menu = "".join(
        f'<li class="menu-item menu-item-type-taxonomy">'
        f'<a href="{ea(ctx.url(pub.section_url_path(s)))}">{e(s)}</a></li>'
        for s in pub.sections
    )
    return f"""<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#primary">Skip to content</a>
<div id="cookie-notice" role="dialog" aria-label="Cookie notice" class="cookie-notice-container">
<span id="cn-notice-text" class="cn-text-container">{e(ctx.appeals.cookie_text)}</span>
<span class="cn-buttons-container"><a href="#" id="cn-accept-cookie" class="cn-button">Accept</a>
<a href="{ea(ctx.url("/privacy/"))}" class="cn-button cn-more-info">Manage preferences</a></span>
</div>
<header id="masthead" class="site-header">
<div class="site-branding">
<p class="site-title"><a href="{ea(ctx.url("/"))}" rel="home">{e(pub.title)}</a></p>
<p class="site-description">{e(pub.tagline)}</p>
</div>
<nav id="site-navigation" class="main-navigation" aria-label="Primary menu">
<button class="menu-toggle" aria-controls="primary-menu" aria-expanded="false">Menu</button>
<ul id="primary-menu" class="menu">
<li class="menu-item menu-item-home"><a href="{ea(ctx.url("/"))}">Home</a></li>{menu}</ul>
</nav>
</header>
<div id="content" class="site-content">
"""


def _footer(ctx: Ctx) -> str:
    return f"""</div><!-- #content -->
<footer id="colophon" class="site-footer">
<nav class="footer-navigation"><ul class="footer-menu">
<li><a href="{ea(ctx.url("/about/"))}">About us</a></li>
<li><a href="{ea(ctx.url("/privacy/"))}">Privacy Policy</a></li>
<li><a href="{ea(ctx.url("/support/"))}">Contribute</a></li>
<li><a href="{ea(ctx.url(ctx.pub.feed_path))}">RSS</a></li>
</ul></nav>
<div class="site-info">&copy; {ctx.year} {e(ctx.pub.title)}. All rights reserved.
<span class="sep"> | </span>Proudly powered by WordPress.</div>
</footer>
</div><!-- #page -->
</body>
</html>
"""


def _sidebar(ctx: Ctx, article: Article | None) -> str:
    popular = ctx.most_read(article) if article else ctx.articles[:4]
    heading, body, cta = ctx.appeals.membership
    return f"""<aside id="secondary" class="widget-area">
<section id="custom_html-3" class="widget widget_membership">
<h2 class="widget-title">{e(heading)}</h2>
<p>{e(body)}</p>
<p><a class="button membership-cta" href="{ea(ctx.url("/membership/"))}">{e(cta)}</a></p>
</section>
<section id="top-posts-2" class="widget widget_top-posts">
<h2 class="widget-title">Most read</h2>
{link_list(ctx, popular, ' class="widgets-list-layout"')}
</section>
</aside>
"""


def _newsletter(ctx: Ctx) -> str:
    heading, blurb, label, button, note = ctx.appeals.newsletter
    return f"""<div class="wp-block-group newsletter-signup">
<h4 class="newsletter-signup__title">{e(heading)}</h4>
<p>{e(blurb)}</p>
<form class="newsletter-signup__form" action="{ea(ctx.url("/newsletter/"))}" method="post">
<label for="nl-email">{e(label)}</label>
<input type="email" id="nl-email" name="email" placeholder="you@example.com" required>
<button type="submit">{e(button)}</button>
</form>
<p class="newsletter-signup__note">{e(note)}</p>
</div>"""


def _donation(ctx: Ctx) -> str:
    ap = ctx.appeals
    paras = "\n".join(f"<p>{e(p)}</p>" for p in ap.donation_paragraphs)
    return f"""<div class="donate-banner" id="donate-banner" data-campaign="spring-appeal">
<h3 class="donate-banner__title">{e(ap.donation_heading)}</h3>
{paras}
<div class="donate-banner__actions">
<a class="donate-banner__cta wp-element-button" href="{ea(ctx.url("/support/"))}">{e(ap.donation_cta)}</a>
<a class="donate-banner__dismiss" href="#">{e(ap.donation_dismiss)}</a>
</div>
</div>"""


def article_page(ctx: Ctx, a: Article) -> str:
    canonical = ctx.url(a.path)
    pub_iso = a.published.isoformat(timespec="seconds")
    mod_iso = a.last_modified.isoformat(timespec="seconds")
    meta = (
        '<meta property="og:type" content="article">\n'
        f'<meta name="description" content="{ea(a.summary)}">\n'
        f'<meta property="og:description" content="{ea(a.summary)}">\n'
        f'<meta property="article:published_time" content="{pub_iso}">\n'
        f'<meta property="article:modified_time" content="{mod_iso}">\n'
        f'<meta property="article:section" content="{ea(a.section)}">\n'
        f'<meta name="author" content="{ea(a.author)}">\n'
    )
    n = len(a.paragraphs)
    body = paragraphs_with_inserts(
        a.paragraphs, {min(3, n - 2): _newsletter(ctx), n - 1: inline_appeal(ctx, a)}
    )
    author_url = ctx.url(ctx.pub.author_url_path(a.author) or "/")
    section_url = ctx.url(ctx.pub.section_url_path(a.section))
    shares = "\n".join(
        f'<li class="share-{i}"><a rel="nofollow noopener noreferrer" class="share-icon" href="{ea(href)}">'
        f"<span>{e(label)}</span></a></li>"
        for i, (label, href) in enumerate(share_links(ctx, a))
    )
    post_id = 4000 + ctx.articles.index(a)
    shown, shown_mod = (d.strftime("%B %-d, %Y") for d in (a.published, a.last_modified))
    return (
        _head(ctx, a.title, canonical, meta)
        + f'<body class="post-template-default single single-post postid-{post_id} single-format-standard">\n'
        + _header(ctx)
        + f"""<div id="primary" class="content-area">
<main id="main" class="site-main">
<nav class="yoast-breadcrumbs" aria-label="Breadcrumb">
<span><a href="{ea(ctx.url("/"))}">Home</a></span> &raquo;
<span><a href="{ea(section_url)}">{e(a.section)}</a></span> &raquo;
<span class="breadcrumb_last">{e(a.title)}</span></nav>
<article id="post-{post_id}" class="post-{post_id} post type-post status-publish format-standard hentry">
<header class="entry-header">
<h1 class="entry-title">{e(a.title)}</h1>
<div class="entry-meta">
<span class="posted-on">Posted on <a href="{ea(canonical)}" rel="bookmark">
<time class="entry-date published" datetime="{pub_iso}">{shown}</time>
<time class="updated" datetime="{mod_iso}">{shown_mod}</time></a></span>
<span class="byline"> by <span class="author vcard">
<a class="url fn n" href="{ea(author_url)}">{e(a.author)}</a></span></span>
</div>
</header>
<div class="entry-content">
{body}
{_donation(ctx)}
</div><!-- .entry-content -->
<footer class="entry-footer">
<span class="cat-links">Posted in <a href="{ea(section_url)}" rel="category tag">{e(a.section)}</a></span>
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3>
<ul class="share-buttons">
{shares}
</ul></div>
</footer>
</article>
<div class="jp-relatedposts" id="jp-relatedposts">
<h3 class="jp-relatedposts-headline">Related stories</h3>
{link_list(ctx, ctx.related(a), ' class="jp-relatedposts-items"')}
</div>
</main>
</div>
"""
        + _sidebar(ctx, a)
        + _footer(ctx)
    )


def page(ctx: Ctx, path: str, title: str, body: str) -> str:
    return (
        _head(ctx, title, ctx.url(path))
        + '<body class="archive">\n'
        + _header(ctx)
        + f"""<div id="primary" class="content-area">
<main id="main" class="site-main">
<header class="page-header"><h1 class="page-title">{e(title)}</h1></header>
{body}
</main>
</div>
"""
        + _sidebar(ctx, None)
        + _footer(ctx)
    )
