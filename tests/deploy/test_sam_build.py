"""`sam build` on this machine (Python 3.11, x86_64, no Docker) makes what Lambda's python3.13 arm64 runs."""

import subprocess
from pathlib import Path

from tests.deploy.conftest import ROOT, functions

EM_AARCH64 = 183
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def size_of(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def test_layer_holds_aarch64_cp313_wheels(sam_build):
    site = sam_build / "SyncCoreLayer" / "python"
    # Every wheel installed is built for CPython 3.13 on aarch64, or is pure Python.
    tags = {
        line.split(":", 1)[1].strip()
        for wheel in site.glob("*.dist-info/WHEEL")
        for line in wheel.read_text().splitlines()
        if line.startswith("Tag:")
    }
    assert tags, "no wheel metadata in the layer"
    for tag in tags:
        _python, abi, platform = tag.split("-")
        assert platform == "any" or ("aarch64" in platform and abi in ("cp313", "abi3")), tag
    # and every native library in it is an aarch64 ELF, the extension modules named for cpython-313.
    libraries = list(site.rglob("*.so")) + list(site.rglob("*.so.*"))
    assert any("cpython-313-aarch64-linux-gnu" in path.name for path in libraries)
    for path in libraries:
        assert elf_machine(path) == EM_AARCH64, path
        if ".cpython-" in path.name:
            assert "cpython-313-aarch64-linux-gnu" in path.name, path
    assert (site / "sync_core" / "adapters" / "secrets.py").is_file()


def test_every_module_has_a_cpython_313_pyc_lambda_will_use(sam_build, python313):
    built = [sam_build / "SyncCoreLayer" / "python"] + [
        path for path in sam_build.iterdir() if path.is_dir() and path.name.endswith("Function") and any(path.iterdir())
    ]
    done = subprocess.run(
        [python313, str(ROOT / "tools" / "sam" / "check_pyc.py"), *map(str, built)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # and the bytecode loads in CPython 3.13 without its source.
    module = sam_build / "SyncCoreLayer" / "python" / "sync_core" / "domain" / "__pycache__" / "session.cpython-313.pyc"
    check = f"import marshal; code = marshal.loads(open({str(module)!r}, 'rb').read()[16:]); print(code.co_name)"
    assert subprocess.run([python313, "-c", check], capture_output=True, text=True).stdout.strip() == "<module>"


def test_layer_ships_nothing_lambda_does_not_read(sam_build):
    site = sam_build / "SyncCoreLayer" / "python"
    assert not (site / "bin").exists()
    assert not [p for p in site.rglob("*") if p.is_dir() and p.name in ("tests", "test")]
    assert not list(site.rglob("*.dist-info/RECORD"))
    assert not [p for p in site.rglob("*.pyc") if ".cpython-313." not in p.name]
    assert size_of(sam_build / "SyncCoreLayer") < LAMBDA_UNZIPPED_LIMIT / 2


def test_the_migrations_function_ships_the_migrations(sam_build):
    shipped = sorted(path.name for path in (sam_build / "MigrateFunction" / "migrations").iterdir())
    assert shipped == sorted(path.name for path in (ROOT / "migrations").glob("*.sql"))
    assert (sam_build / "MigrateFunction" / "app.py").is_file()


def test_functions_ship_only_their_own_code(sam_build, template):
    # The migrations function also ships the SQL files (checked above); every other one its app.py alone.
    for name in set(functions(template)) - {"MigrateFunction"}:
        shipped = {p.relative_to(sam_build / name).as_posix() for p in (sam_build / name).rglob("*") if p.is_file()}
        assert shipped == {"app.py", "__pycache__/app.cpython-313.pyc"}, (name, shipped)


def test_nothing_deployed_holds_the_api_document_or_its_page(sam_build):
    # The document and /docs belong to the local server; Lambda's cold start never reads them.
    shipped = [p.relative_to(sam_build) for p in sam_build.rglob("*") if p.name in ("openapi.yaml", "devserver")]
    assert shipped == []
