"""Array parameters of the ingestion queries as one PostgreSQL array literal each.

psycopg's client-side binding (Django's default) turns a list into SQL element by element in
Python: for a batch's per-meter spans (a few hundred ids and timestamps in each of five queries)
that was 7 % of an ingest process's samples under the load bench. One text literal per array is
quoted once and parsed by PostgreSQL in C; the queries cast it (`%s::bigint[]`) as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def int_array(values: Iterable[int]) -> str:
    """`{1,2,3}` for `%s::bigint[]`."""
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def timestamp_array(values: Iterable[dt.datetime]) -> str:
    """`{2025-01-06T00:00:00+00:00,...}` for `%s::timestamptz[]`; every value must carry its zone."""
    parts = []
    for value in values:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: its zone would be the session's, not its own")
        parts.append(value.isoformat())
    return "{" + ",".join(parts) + "}"


def float_array(values: Iterable[float]) -> str:
    """`{1.5,NULL,2.0}` for `%s::float8[]`: NaN is NULL; repr keeps every digit of each float."""
    return "{" + ",".join("NULL" if value != value else repr(float(value)) for value in values) + "}"


def date_array(values: Iterable[dt.date]) -> str:
    """`{2025-01-06,...}` for `%s::date[]`."""
    return "{" + ",".join(value.isoformat() for value in values) + "}"
