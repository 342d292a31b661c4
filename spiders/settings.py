"""Scrapy settings for the news crawler: polite by default.

`NEWS_POLITE = False` (e.g. `-s NEWS_POLITE=False` in tests and benchmarks) switches off AutoThrottle, delays
and retry backoff; the news spider applies it, and each source's `politeness` overrides, when it starts.
"""

from newsconfig.env import contact

BOT_NAME = "news-ingest"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"
COMMANDS_MODULE = "spiders.commands"  # `scrapy crawl news` checks its arguments before starting
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

NEWS_CONTACT = contact()
USER_AGENT = f"news-ingest/0.1 (+{NEWS_CONTACT})"
ROBOTSTXT_OBEY = True

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
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
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
NEWS_INDEX_OUT_OF_WINDOW = True  # index lines for entries skipped on their date hint
NEWS_DEDUP_INDEXES: list[str] = []  # earlier days' index.jsonl.gz files: their captures are not fetched again
# Article requests the scheduler queues as Requests; the others wait as tuples (spiders.scheduler), so memory
# stays flat in the number of pages (a queued Request costs ~1.3 KiB). At least 1.
NEWS_SCHEDULED_ARTICLES = 100
NEWS_TIMER_PURGE_SECONDS = 1.0  # see spiders.extensions.TimerPurgeExtension (0: off)
NEWS_PROGRESS_SECONDS = 15.0  # a progress line in the log this often (spiders.progress; 0: off)

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
