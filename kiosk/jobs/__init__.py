"""Job catalogue and search: feed parsing (model), normalisation, the SQLite index.

Pure: no clock reads (the search date is passed in), no UI, device or network imports.
"""

from kiosk.jobs.index import Filters, Hit, JobIndex, build_index
from kiosk.jobs.model import Feed, FeedError, Posting, parse_feed
from kiosk.jobs.normalize import normalize

__all__ = ["Feed", "FeedError", "Filters", "Hit", "JobIndex", "Posting", "build_index", "normalize", "parse_feed"]
