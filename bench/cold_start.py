"""Cold-start import cost of each function, from the layer as `make build-SyncCoreLayer` (sam build's
recipe) makes it, next to the bare import of its framework, in one run.

Each sample is a fresh CPython 3.13 process (what a Lambda cold start pays for imports): it puts the
layer's python/ and the function's directory on sys.path, as the runtime does with /opt/python and
/var/task, and times `import app` (the handler module) after `import boto3` (a deployed function
imports boto3 to read the Better Auth secret and sign its IAM token). The baseline times
`import starlette.applications, psycopg, boto3; from pydantic import BaseModel` (the app, the driver,
the AWS SDK, the settings' models: pydantic 2's bare `import pydantic` is a lazy shell that loads none
of the ~80 ms its models cost, which then showed up as the project's own) from the same layer. The
ratio of medians is what the project's own code adds; the target is at most 1.10. Baseline and
function samples alternate, so a drift in the machine's load weighs on both alike.

The layer Lambda runs is aarch64; this machine is x86_64, so the timed layer is its twin, built by
the same Makefile with PLATFORMS set to x86_64 wheels (same pins, same .py, same cpython-313 .pyc;
only the native extension modules differ). The size reported is the aarch64 layer's.

    python3 bench/cold_start.py [--samples 15] [--python313 PATH]

Needs a CPython 3.13: scripts/setup-sam-tools.sh finds or builds one and prints its path.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
X86_64 = "manylinux2014_x86_64 manylinux_2_28_x86_64"
BARE_IMPORT = "import starlette.applications, psycopg, boto3; from pydantic import BaseModel"
ENVIRONMENT = {
    "DATABASE_URL": "postgresql://bench@127.0.0.1:9/bench",  # never dialled: connections are lazy
    "BETTER_AUTH_SECRET": "bench-secret-0123456789",
    "POWERTOOLS_SERVICE_NAME": "appframes-sync",
    "POWERTOOLS_METRICS_NAMESPACE": "AppFrames/Sync",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
    "PYTHONDONTWRITEBYTECODE": "1",  # the layer is read-only in Lambda
}
TIMER = """
import sys, time
sys.path[:0] = {paths!r}
start = time.perf_counter()
{imports}
print(time.perf_counter() - start)
"""


def python313_path(given: str | None) -> str:
    if given:
        return given
    done = subprocess.run(["bash", str(ROOT / "scripts" / "setup-sam-tools.sh")], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"no CPython 3.13: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def build_layer(python313: str, artifacts: Path, platforms: str | None = None) -> Path:
    command = [
        "make",
        "-s",
        "-C",
        str(ROOT / "layers" / "sync_core"),
        "build-SyncCoreLayer",
        f"ARTIFACTS_DIR={artifacts}",
        f"PYTHON313={python313}",
        f"PIP_PYTHON={sys.executable}",
    ]
    if platforms:
        command.append(f"PLATFORMS={platforms}")
    subprocess.run(command, check=True)
    return artifacts / "python"


def build_function(python313: str, name: str, artifacts: Path) -> Path:
    target = artifacts / name
    target.mkdir(parents=True)
    shutil.copy(ROOT / "functions" / name / "app.py", target / "app.py")
    subprocess.run(
        [python313, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(target)], check=True
    )
    return target


def sample(python313: str, paths: list[str], imports: str) -> float:
    code = TIMER.format(paths=paths, imports=imports)
    done = subprocess.run(
        [python313, "-c", code], env={**os.environ, **ENVIRONMENT}, cwd="/", capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def paired_medians_ms(python313: str, baseline: tuple, measured: tuple, samples: int) -> tuple[float, float]:
    """Medians of the baseline and the measured import, sampled alternately so that drift in the
    machine's load weighs on both alike. Each is a (sys.path entries, import statements) pair."""
    for paths, imports in (baseline, measured):
        sample(python313, paths, imports)  # warm the OS page cache, as a provisioned sandbox has it
    pairs = [(sample(python313, *baseline), sample(python313, *measured)) for _ in range(samples)]
    return 1000 * statistics.median(b for b, _ in pairs), 1000 * statistics.median(m for _, m in pairs)


def size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--python313")
    options = parser.parse_args()
    python313 = python313_path(options.python313)

    with tempfile.TemporaryDirectory(prefix="appframes-bench-") as scratch:
        scratch = Path(scratch)
        arm_layer = build_layer(python313, scratch / "layer-arm64")
        layer = build_layer(python313, scratch / "layer-x86_64", X86_64)
        bare = ([str(layer)], BARE_IMPORT)
        results = {
            "python": subprocess.run(
                [python313, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
            ).stdout.strip(),
            "samples": options.samples,
            "layer_unzipped_mb": round(size_mb(arm_layer.parent), 1),
            "functions": {},
        }
        baselines = []
        for name in FUNCTIONS:
            function_dir = build_function(python313, name, scratch / "functions")
            function = ([str(function_dir), str(layer)], "import boto3\nimport app")
            baseline, took = paired_medians_ms(python313, bare, function, options.samples)
            baselines.append(baseline)
            results["functions"][name] = {"import_ms": round(took, 1), "ratio": round(took / baseline, 3)}
        results[f"baseline_ms ({BARE_IMPORT})"] = round(statistics.median(baselines), 1)
        shutil.make_archive(str(scratch / "layer"), "zip", arm_layer.parent)
        results["layer_zipped_mb"] = round((scratch / "layer.zip").stat().st_size / 1_000_000, 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
