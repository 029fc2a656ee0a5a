"""Keep what a process builds at startup out of the cyclic garbage collector's way.

A web process holds about 240,000 objects once Django is set up and its URLconf has imported the
views (and with them pandas, scikit-learn, xgboost and plotly); a worker about as many. Python's
collector walks every one of them at each full collection: 140 ms at a time (measured with
gc.callbacks on the demo campus), once every thousand or so API requests, a stall for whichever
request is running, and more often in an ingest process, whose batches allocate a dict per reading.
None of these objects is ever garbage, so they are moved to the collector's permanent generation
(`gc.freeze()`), where it does not look; everything created later is collected as before.
"""

from __future__ import annotations

import gc


def startup_objects_freeze() -> int:
    """Import the URLconf (every view, and the libraries they import: Django would at the first
    request), collect what is already garbage, then freeze the rest; returns how many were frozen."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
