"""Scrapy settings for the news crawler: polite by default.

`NEWS_POLITE = False` (e.g. `-s NEWS_POLITE=False` in tests and benchmarks) switches off AutoThrottle, delays
and retry backoff; the news spider applies it, and each source's `politeness` overrides, when it starts.
"""

from newsconfig.env import archive_concurrency, archive_delay, contact

BOT_NAME = "news-ingest"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"
COMMANDS_MODULE = "spiders.commands"  # `scrapy crawl news` checks its arguments before starting
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

NEWS_CONTACT = contact()
USER_AGENT = f"news-ingest/0.1 (+{NEWS_CONTACT})"
# robots.txt as RFC 9309 reads it, fetched once per site (spiders.robots): unreachable (5xx, 429, network
# error) means nothing of the site is fetched, 4xx means everything may be; its Crawl-delay is honoured.
ROBOTSTXT_OBEY = True
NEWS_ROBOTS_MAX_BYTES = 512 * 1024  # parsed of a larger robots.txt (RFC 9309: at least 500 KiB)
NEWS_VALIDATORS_FILE = ""  # the previous day's validators.json.gz: conditional requests (spiders.revisits)
NEWS_TDMREP = True  # fetch each site's /.well-known/tdmrep.json once per crawl (spiders.robots)
NEWS_TDMREP_MAX_BYTES = 64 * 1024
NEWS_ROBOTS_MAX_CRAWL_DELAY = 30.0  # a longer Crawl-delay is capped (and counted): the crawl budget assumes it
# Every address the crawler connects to is checked when it is resolved (DNS rebinding): spiders.resolver.
TWISTED_DNS_RESOLVER = "spiders.resolver.GuardedResolver"

# Politeness: AutoThrottle adapts to each site's latency; per-domain concurrency stays low.
NEWS_POLITE = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 0.5
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Items per response processed at once: the news spider yields at most one item per article, and Scrapy
# starts this many asyncio tasks for every response (default 100), which cost more than the item.
CONCURRENT_ITEMS = 1
COOKIES_ENABLED = False
# No control endpoint in a crawl: Scrapy's telnet console and its remote-control HTTP server (on by default in
# 2.19) both run code sent to them; the latter also writes a job file under ~/.local/state/scrapy.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Robustness: bounded time and size per response, retries with backoff that honour Retry-After.
DOWNLOAD_TIMEOUT = 30
# Our handler (spiders.download): Scrapy's behaviour on Twisted's public client, with every response head
# bounded while it arrives (a server streaming headers got 76 MiB in 30 s into a crawl before).
DOWNLOAD_HANDLERS = {
    "http": "spiders.download.GuardedHTTPDownloadHandler",
    "https": "spiders.download.GuardedHTTPDownloadHandler",
}
NEWS_MAX_HEADER_BYTES = 256 * 1024  # a response head past this is dropped (`headers_too_large`), as Chrome does
NEWS_MAX_HEADERS = 1000  # … or past this many header lines
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # also caps decompressed bodies (HttpCompressionMiddleware)
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry, doubled each time
RETRY_BACKOFF_MAX = 30.0
RETRY_AFTER_MAX = 60.0  # a server asking for longer waits this long at most
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False
DEPTH_LIMIT = 0  # the sitemap depth is bounded by NEWS_SITEMAP_MAX_DEPTH instead

# Development only: an on-disk HTTP cache (`-s HTTPCACHE_ENABLED=True`).
HTTPCACHE_ENABLED = False
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 86400

DOWNLOADER_MIDDLEWARES = {
    # HostGuard replaces it: Scrapy's drops offsite redirects at scheduling, where no errback sees them.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "spiders.middlewares.HostGuardMiddleware": 40,
    # One robots.txt fetch per site for its rules, its Crawl-delay and the spider's Sitemap: lines.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.robots.RobotsTxtPolicyMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    "spiders.middlewares.BodyPrefixMiddleware": 595,  # between HttpCompression (590) and the handler
}
SCHEDULER = "spiders.scheduler.ArticleScheduler"
DUPEFILTER_CLASS = "spiders.dedup.DigestDupeFilter"  # 8 bytes per request fingerprint instead of ~120
ITEM_PIPELINES = {
    "spiders.pipelines.WindowFilterPipeline": 100,
    "spiders.dedup.DedupPipeline": 200,
    "spiders.pipelines.CapturePipeline": 900,
}
EXTENSIONS = {
    "spiders.extensions.TimerPurgeExtension": 50,
    "spiders.extensions.SummaryExtension": 100,
    "spiders.robots.SiteFactsExtension": 150,  # sites.jsonl.gz: what robots.txt and tdmrep.json said
    "spiders.revisits.ValidatorsExtension": 160,  # validators.json.gz: the feeds' and sitemaps' ETag/Last-Modified
    "spiders.progress.ProgressExtension": 200,
    "spiders.extensions.S3UploadExtension": 900,
}

# The news spider's own knobs.
NEWS_CAPTURE_ENABLED = True
NEWS_WARC_MAX_BYTES = 256 * 1024 * 1024  # a part is closed once it passes this size
NEWS_WARC_GZIP_LEVEL = 6  # level 9 (warcio's) costs ~1.6x the time on news pages for <1% smaller parts
NEWS_CAPTURE_THREAD = True  # compress and write large pages' WARC records on a writer thread …
NEWS_CAPTURE_THREAD_FROM = 32 * 1024  # … from this body size (smaller ones: handing over costs more)
NEWS_CAPTURE_QUEUE_BYTES = 16 * 1024 * 1024  # page bytes queued for that thread before the crawl waits
NEWS_SITEMAP_MAX_DEPTH = 4  # index → index → … → urlset
NEWS_MAX_DOCUMENTS = 2000  # feeds + sitemaps fetched per crawl, a guard against runaway indexes
NEWS_MAX_ENTRIES = 50_000  # entries read from one feed or sitemap (the sitemap protocol's limit); the rest
# get index lines (`entry_limit`) and the document counts as truncated
URLLENGTH_LIMIT = 2083  # a longer URL is indexed as `url_too_long` (Scrapy's own check would drop it silently)
# A page's date and canonical URL are read on the reactor thread below this size (a few ms at most), in a
# worker thread above it, within a budget: a page that takes longer is stored without them.
NEWS_PAGE_THREAD_FROM = 128 * 1024
NEWS_PAGE_BUDGET_SECONDS = 10.0
NEWS_INDEX_OUT_OF_WINDOW = True  # index lines for entries skipped on their date hint
NEWS_DEDUP_INDEXES: list[str] = []  # earlier days' index.jsonl.gz files: their captures are not fetched again
# Article requests the scheduler queues as Requests; the others wait as tuples (spiders.scheduler), so memory
# stays flat in the number of pages (a queued Request costs ~1.3 KiB). At least 1.
NEWS_SCHEDULED_ARTICLES = 100
NEWS_TIMER_PURGE_SECONDS = 1.0  # see spiders.extensions.TimerPurgeExtension (0: off)
NEWS_PROGRESS_SECONDS = 15.0  # a progress line in the log this often (spiders.progress; 0: off)

# Web archives (issue #16): where articles are found (live | archives | both), the candidates archive discovery
# found (spiders.cdx, a JSON Lines file), and each archive host's politeness, kept whatever NEWS_POLITE says.
NEWS_DISCOVER = "live"
NEWS_ARCHIVE_CANDIDATES = ""
NEWS_ARCHIVE_CONCURRENCY = archive_concurrency()
NEWS_ARCHIVE_DELAY = archive_delay()

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
