"""Each lock file pins, with hashes, what the requirement files beside it ask for (`make lock` is current)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# lock file -> the requirement file it is compiled from (scripts/lock.sh)
LOCKS = {
    "requirements-dev.lock": "requirements-dev.txt",
    "layers/sync_core/requirements.lock": "layers/sync_core/requirements.txt",
    "tools/sam/requirements.lock": "tools/sam/requirements.txt",
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requested_pins(requirement_file: Path) -> dict[str, str]:
    """The name==version lines of a requirement file and of the files it includes with -r."""
    pins = {}
    for line in requirement_file.read_text().splitlines():
        if line.startswith("-r "):
            pins |= requested_pins(requirement_file.parent / line[3:].strip())
        elif match := PIN.match(line):
            pins[normalized(match[1])] = match[2]
    return pins


def locked_entries(lock_file: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) for every requirement of a pip-compile style lock file."""
    entries = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock_file.read_text()):
        if match := PIN.match(block):
            entries[normalized(match[1])] = (match[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


@pytest.mark.parametrize(("lock", "requirements"), sorted(LOCKS.items()))
def test_every_requested_pin_is_locked_at_its_version(lock, requirements):
    locked = locked_entries(ROOT / lock)
    for name, version in requested_pins(ROOT / requirements).items():
        assert locked.get(name, ("missing",))[0] == version, f"run `make lock`: {name}=={version} in {lock}"


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_locked_package_carries_hashes(lock):
    entries = locked_entries(ROOT / lock)
    assert entries
    assert [name for name, (_, hashes) in entries.items() if not hashes] == []


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_nothing_is_installed_unlocked(lock):
    # Editable or URL lines are not hash-checked; the editable sync_core is installed on its own, --no-deps.
    unhashable = re.compile(r"^(-e\s|\S+://|\S+ @ |[./])")
    assert [line for line in (ROOT / lock).read_text().splitlines() if unhashable.match(line)] == []
