"""The Lambda functions of this repo, imported from their files as the Lambda runtime would."""

import importlib.util
from pathlib import Path
from types import ModuleType

from sync_core.adapters.http.routes import ROUTERS

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
# The functions that serve the API, one per router.
PROJECT_FUNCTIONS = tuple(ROUTERS)


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a module name of its own (every entry point is `app`)."""
    spec = importlib.util.spec_from_file_location(f"lambda_function_{name}", FUNCTIONS_DIR / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
