"""The benchmarks (`make bench`). A request log line per call would swamp their tables: the level is
set here, before any benchmark imports the layer, whose logger reads it once at import."""

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
