"""The project's Scrapy commands (COMMANDS_MODULE): `crawl` checks the news spider's arguments first."""
