"""The CI deploy workflows: actionlint-clean, OIDC only, and in the promised order."""

import subprocess

import yaml

from tests.deploy.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def test_actionlint(sam_tools):
    files = sorted(map(str, WORKFLOWS.glob("*.yml")))
    assert files
    done = subprocess.run(
        [str(sam_tools / "actionlint"), *files], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_deploys_use_oidc_and_no_long_lived_keys():
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text, path.name
    stage = yaml.safe_load((WORKFLOWS / "deploy-stage.yml").read_text())
    assert stage["permissions"]["id-token"] == "write"
    steps = stage["jobs"]["deploy"]["steps"]
    credentials = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
    assert credentials and "role-to-assume" in credentials[0]["with"]
    names = [s.get("name", "") for s in steps]
    assert names.index("sam deploy") < names.index("Apply migrations") < names.index("Smoke test")


def test_main_goes_to_dev_and_tags_to_staging_then_prod():
    jobs = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())["jobs"]
    assert jobs["build"]["needs"] == "test"
    assert jobs["deploy-dev"]["if"] == "github.ref == 'refs/heads/main'"
    assert jobs["deploy-staging"]["if"].startswith("startsWith(github.ref, 'refs/tags/v')")
    assert jobs["deploy-prod"]["needs"] == "deploy-staging"
    assert {jobs[j]["with"]["stage"] for j in ("deploy-dev", "deploy-staging", "deploy-prod")} == {
        "dev",
        "staging",
        "prod",
    }
