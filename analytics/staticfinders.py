"""Serve Plotly's own JavaScript from the installed plotly package (no CDN, same version as Python)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Finds exactly one file: vendor/plotly.min.js."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.directory = Path(plotly.__file__).parent / "package_data"
        self.storage = FileSystemStorage(location=str(self.directory))
        self.storage.prefix = "vendor"  # type: ignore[attr-defined]

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        if path != PLOTLY_JS:
            return [] if find_all else None
        match = str(self.directory / "plotly.min.js")
        return [match] if find_all else match

    def list(self, ignore_patterns: Any) -> Any:
        yield "plotly.min.js", self.storage
