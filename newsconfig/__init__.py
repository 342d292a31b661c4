"""One home for news-ingest's configuration, read by every other package and importing none of them.

`newsconfig.env`: the standard environment (`NEWS_BUCKET`, `NEWS_SOURCES`, …); boto3 reads its own.
`newsconfig.sources`: the sources file, one validated, declarative entry per publisher.
"""
