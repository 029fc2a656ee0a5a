"""JSON request bodies parsed by orjson, with DRF's own parser behind it for what orjson refuses.

A gateway's batch of 5,000 readings is 390 kB of JSON: the standard library took 4.1 ms to read
it, orjson 1.0 ms, and under the load bench json decoding was 13 % of an ingest process's time
holding the interpreter lock (py-spy --gil). orjson is strict RFC 8259; the standard library also
reads a number too large for a float (as infinity), an unpaired surrogate and the NaN and Infinity
literals (as their text), which the importers then reject row by row. So a body orjson refuses goes
to the standard library, or is refused in DRF's words: no batch is refused whole for one odd value
in one row.

One difference stays: orjson reads an integer past 64 bits as a float (the standard library keeps
it exact); no reading or id the API takes is that large.

What that parser reads may hold unpaired surrogates, which are not Unicode: nothing downstream can
store them or even send them back in an error message, so each is written out as its escape
(`"\\ud800"` becomes the six characters `\ud800`), keys and values alike.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.api.exceptions import too_large
from core.text import unicode_escaped


class FastJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        encoding = str((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)
        # Every JSON body, on every endpoint, at most DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads the
        # stream past Django's own check): one byte more is read to tell, never the rest.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise too_large(limit)
        if encoding.lower().replace("-", "").replace("_", "") == "utf8":
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                pass
        try:
            text = body.decode(encoding)
            # NaN and Infinity are not JSON, but gateways send them: kept as their text, which every
            # number check then refuses for its own item (a float field, a reading's kWh), so one
            # such value costs its row, never the batch.
            return _unicode(json.loads(text, parse_constant=str))
        except RecursionError as error:  # the standard library recurses once per level of nesting
            raise ParseError("JSON parse error - nested too deeply") from error
        except (ValueError, LookupError) as error:  # malformed JSON, bad bytes, an unknown charset
            raise ParseError(f"JSON parse error - {error}") from error


def _unicode(value: Any) -> Any:
    if isinstance(value, str):
        return unicode_escaped(value)
    if isinstance(value, list):
        return [_unicode(item) for item in value]
    if isinstance(value, dict):
        return {_unicode(key): _unicode(item) for key, item in value.items()}
    return value
