"""The benchmarks (`make bench`). Set here, before any benchmark imports the layer: the request log at
ERROR (a line per call would swamp the tables; the layer's logger reads the level once at import), and
storage quotas no benchmark reaches (their one user writes thousands of revisions, GiBs of them)."""

import os

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("QUOTA_BYTES_PER_USER", str(1 << 50))
os.environ.setdefault("QUOTA_PROJECTS_PER_USER", str(1 << 30))
