"""Fixtures for the deploy tests: the SAM tool environment, a CPython 3.13, the parsed template,
and one `sam build` per run (about 15 s once the tools exist; scripts/setup-sam-tools.sh makes them)."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAM_BIN = ROOT / ".venv-sam" / "bin"


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, ...) read as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def sam_environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1", **extra}


@pytest.fixture(scope="session")
def python313() -> str:
    """A CPython 3.13 (scripts/setup-sam-tools.sh finds one on PATH or builds one once)."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup-sam-tools.sh")], capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def sam_tools(python313: str) -> Path:
    return SAM_BIN


def functions(template: dict) -> dict[str, dict]:
    """The template's Lambda functions by logical id, each as its Properties."""
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


@pytest.fixture(scope="session")
def template() -> dict:
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=CloudFormationLoader)


@pytest.fixture(scope="session")
def sam_build(sam_tools: Path, python313: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("sam-build") / "build"
    done = subprocess.run(
        [str(sam_tools / "sam"), "build", "--build-dir", str(build_dir), "--template-file", "template.yaml"],
        cwd=ROOT,
        env=sam_environment(PYTHON313=python313),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return build_dir
