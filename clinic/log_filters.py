"""Logging filters that keep patients' details out of the logs."""

from __future__ import annotations

import logging
import re

# "GET /patients/?q=okonkwo HTTP/1.1" -> "GET /patients/?… HTTP/1.1"
_QUERY = re.compile(r"\?[^\s\"]*")


class NoQueryStrings(logging.Filter):
    """Drops query strings from logged request lines: staff type patients' names and numbers into searches.

    For the development server's request log (``django.server``), which
    prints each request line; production's gunicorn keeps no access log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_QUERY.sub("?…", arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = _QUERY.sub("?…", record.msg) if "%" not in record.msg else record.msg
        return True
