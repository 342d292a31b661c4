"""Early-2000s CMS look: nested <div id="content"><div class="text">, tables, JSON-LD NewsArticle.

Dates live only in JSON-LD and a visible dateline. The donation block has no class or id at all,
so only its text gives it away.
"""

from __future__ import annotations

import json

from ..model import Article
from .common import Ctx, e, ea, inline_appeal, link_list, paragraphs_with_inserts, share_links


def _json_ld(ctx: Ctx, a: Article) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": ctx.url(a.path)},
        "headline": a.title,
        "description": a.summary,
        "articleSection": a.section,
        "inLanguage": ctx.pub.language,
        "datePublished": a.published.isoformat(timespec="seconds"),
        "dateModified": a.last_modified.isoformat(timespec="seconds"),
        "author": {"@type": "Person", "name": a.author},
        "publisher": {"@type": "Organization", "name": ctx.pub.title, "url": ctx.url("/")},
    }
    # "</" inside a script element would end it early
    return json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")


def _head(ctx: Ctx, title: str, canonical: str, extra: str = "") -> str:
    pub = ctx.pub
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{e(pub.title)} - {e(title)}</title>
<link rel="canonical" href="{ea(canonical)}" />
<meta property="og:site_name" content="{ea(pub.title)}" />
<meta property="og:title" content="{ea(title)}" />
<meta name="keywords" content="Port Calder, news, harbour, west coast" />
<link rel="alternate" type="application/rss+xml" title="Latest news" href="{ea(ctx.url(pub.feed_path))}" />
{extra}<style type="text/css">#leftcol{{width:70%}} #rightcol{{width:30%;background:#eef}}</style>
</head>
"""


def _top(ctx: Ctx, date_line: str) -> str:
    pub = ctx.pub
    menu = " | ".join(
        [f'<a href="{ea(ctx.url("/"))}">Home</a>']
        + [f'<a href="{ea(ctx.url(pub.section_url_path(s)))}">{e(s)}</a>' for s in pub.sections]
    )
    return f"""<body bgcolor="#ffffff">
<div id="wrapper">
<div id="header">
<table width="100%" cellpadding="0" cellspacing="0" border="0"><tr>
<td><div id="logo"><a href="{ea(ctx.url("/"))}">{e(pub.title)}</a></div>
<div id="strap">{e(pub.tagline)}</div></td>
<td align="right" class="date">{e(date_line)}</td>
</tr></table>
<div id="menu">{menu}</div>
</div>
<div id="cookiebar">{e(ctx.appeals.cookie_text)} <a href="#" onclick="return hideCookieBar()">Accept</a>
<a href="{ea(ctx.url("/privacy/"))}">Manage preferences</a></div>
<div id="content">
"""


def _bottom(ctx: Ctx) -> str:
    return f"""</div>
<div id="footer">
<a href="{ea(ctx.url("/about/"))}">About the Wire</a> |
<a href="{ea(ctx.url("/privacy/"))}">Privacy &amp; cookies</a> |
<a href="{ea(ctx.url("/support/"))}">Contribute</a> | <a href="{ea(ctx.url(ctx.pub.feed_path))}">RSS</a><br />
Copyright &copy; {ctx.year} {e(ctx.pub.title)}. All rights reserved.
No part of this site may be reproduced without permission.
</div>
</div>
</body>
</html>
"""


def _right_column(ctx: Ctx, popular: list[Article]) -> str:
    heading, blurb, label, button, note = ctx.appeals.newsletter
    return f"""<td valign="top" id="rightcol">
<table width="100%" cellpadding="4" class="nl"><tr><td>
<b>{e(heading)}</b><br />
<span>{e(blurb)}</span>
<form action="{ea(ctx.url("/newsletter/"))}" method="post">
<span>{e(label)}</span> <input type="text" name="email" size="18" />
<button type="submit">{e(button)}</button>
</form>
<font size="1">{e(note)}</font>
</td></tr></table>
<h3>Most read</h3>
{link_list(ctx, popular)}
</td>"""


def _donation(ctx: Ctx) -> str:
    ap = ctx.appeals
    paras = "\n".join(f"<p>{e(p)}</p>" for p in ap.donation_paragraphs)
    return f"""<div>
<p><b>{e(ap.donation_heading)}</b></p>
{paras}
<p><a href="{ea(ctx.url("/support/"))}">{e(ap.donation_cta)}</a> &nbsp;
<a href="#">{e(ap.donation_dismiss)}</a></p>
</div>"""


def _membership(ctx: Ctx) -> str:
    heading, body, cta = ctx.appeals.membership
    return f"""<div style="border:1px solid #99c;padding:6px;margin-top:12px">
<p><b>{e(heading)}</b></p>
<p>{e(body)}</p>
<p><a href="{ea(ctx.url("/membership/"))}">{e(cta)}</a></p>
</div>"""


def article_page(ctx: Ctx, a: Article) -> str:
    extra = f'<script type="application/ld+json">\n{_json_ld(ctx, a)}\n</script>\n'
    body = paragraphs_with_inserts(a.paragraphs, {len(a.paragraphs) - 1: inline_appeal(ctx, a)})
    shares = " ".join(f'<a href="{ea(href)}">{e(label)}</a>' for label, href in share_links(ctx, a))
    section_url = ctx.url(ctx.pub.section_url_path(a.section))
    local = ctx.local(a.published)
    return (
        _head(ctx, a.title, ctx.url(a.path), extra)
        + _top(ctx, ctx.site.anchor.strftime("%A, %-d %B %Y"))
        + f"""<div class="crumbs">You are here: <a href="{ea(ctx.url("/"))}">Home</a> &gt;
<a href="{ea(section_url)}">{e(a.section)}</a> &gt; Story</div>
<table width="100%" cellpadding="6" cellspacing="0" border="0"><tr>
<td valign="top" id="leftcol">
<h1 class="headline">{e(a.title)}</h1>
<div class="byline">By <b>{e(a.author)}</b> &middot;
<span class="dateline">{local.strftime("%d/%m/%Y %H:%M")}</span></div>
<div class="sharebar">Share: {shares}</div>
<div class="text">
{body}
{_donation(ctx)}
</div>
{_membership(ctx)}
<div class="related"><h3>Related stories</h3>
{link_list(ctx, ctx.related(a))}
</div>
</td>
{_right_column(ctx, ctx.most_read(a))}
</tr></table>
"""
        + _bottom(ctx)
    )


def page(ctx: Ctx, path: str, title: str, body: str) -> str:
    return (
        _head(ctx, title, ctx.url(path))
        + _top(ctx, ctx.site.anchor.strftime("%A, %-d %B %Y"))
        + f"""<table width="100%" cellpadding="6" cellspacing="0" border="0"><tr>
<td valign="top" id="leftcol">
<h1 class="headline">{e(title)}</h1>
{body}
</td>
{_right_column(ctx, ctx.articles[:4])}
</tr></table>
"""
        + _bottom(ctx)
    )
