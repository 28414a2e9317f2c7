"""Fail unless every module under a directory has a CPython 3.13 .pyc that Lambda will use as is.

Run by the layer and function builds right after compileall, and by tests/deploy. A module counts
when its `__pycache__/<name>.cpython-313.pyc` exists, carries 3.13's magic number, and is an
unchecked-hash pyc (PEP 552 flags == 0b01), which the runtime loads without looking at the source's
timestamp.

    python3 tools/sam/check_pyc.py DIR [DIR ...]
"""

import sys
from pathlib import Path

# importlib.util.MAGIC_NUMBER of CPython 3.13 (Lib/importlib/_bootstrap_external.py: 3571).
CPYTHON_313_MAGIC = (3571).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = 0b01


def problems(root: Path) -> list[str]:
    found = []
    for source in sorted(root.rglob("*.py")):
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not compiled.is_file():
            found.append(f"no cpython-313 .pyc for {source.relative_to(root)}")
            continue
        header = compiled.read_bytes()[:8]
        if header[:4] != CPYTHON_313_MAGIC:
            found.append(f"{compiled.relative_to(root)} is not CPython 3.13 bytecode")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            found.append(f"{compiled.relative_to(root)} is not an unchecked-hash .pyc")
    for compiled in sorted(root.rglob("*.pyc")):
        if not compiled.name.endswith(".cpython-313.pyc"):
            found.append(f"{compiled.relative_to(root)} is not for CPython 3.13")
    return found


def main(directories: list[str]) -> int:
    found = [problem for directory in directories for problem in problems(Path(directory))]
    for problem in found[:50]:
        print(f"check_pyc: {problem}", file=sys.stderr)
    if len(found) > 50:
        print(f"check_pyc: ... and {len(found) - 50} more", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
