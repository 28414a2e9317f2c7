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


def _deploy_steps() -> dict[str, dict]:
    steps = yaml.safe_load((WORKFLOWS / "deploy-stage.yml").read_text())["jobs"]["deploy"]["steps"]
    return {step.get("name", step.get("uses", "")): {**step, "place": place} for place, step in enumerate(steps)}


def _commands(step: dict) -> list[str]:
    """The step's shell commands, one a line, continuation lines joined."""
    return [line.strip() for line in step["run"].replace("\\\n", " ").splitlines() if line.strip()]


def _first(commands: list[str], needle: str) -> int:
    return next(place for place, command in enumerate(commands) if needle in command)


def test_migrations_run_before_the_step_that_shifts_traffic_to_the_new_code():
    steps = _deploy_steps()
    ahead, deploy = steps["Apply migrations ahead of the new code"], steps["sam deploy"]
    first_deploy = steps["Apply migrations of a first deploy"]
    # On a stack that exists (it has traffic), migrations are applied before sam deploy moves the API
    # functions; on a first deploy (no stack, no traffic) after it.
    assert steps["Package"]["place"] < steps["Existing stack"]["place"] < ahead["place"] < deploy["place"]
    assert deploy["place"] < first_deploy["place"] < steps["Smoke test"]["place"]
    assert ahead["if"] == "steps.stack.outputs.exists == 'true'"
    assert first_deploy["if"] == "steps.stack.outputs.exists != 'true'"
    # Only sam deploy changes what the API runs, and it deploys the artifacts the migrations step used.
    moving = [name for name, step in steps.items() if "sam deploy" in step.get("run", "")]
    assert moving == ["sam deploy"]
    assert "--template-file packaged.json" in deploy["run"] and "packaged.json" in steps["Package"]["run"]
    # The migrations run by the new build: the stack's migrations function is moved to it first.
    commands = _commands(ahead)
    applied = _first(commands, "scripts/apply-migrations.sh")
    assert _first(commands, "publish-layer-version") < _first(commands, "update-function-configuration") < applied
    assert _first(commands, "update-function-code") < applied
    assert all("$MIGRATE_FUNCTION" in c for c in commands if "update-function" in c or "apply-migrations" in c)
    assert ahead["env"]["MIGRATE_FUNCTION"] == "${{ steps.stack.outputs.migrate_function }}"


def test_the_migrations_function_is_put_back_on_the_stacks_layer_after_the_deploy():
    steps = _deploy_steps()
    back = steps["Migrations function back on the stack's layer"]
    assert steps["sam deploy"]["place"] < back["place"]
    assert back["if"] == "always() && steps.ahead.outputs.layer_arn != ''"
    commands = _commands(back)
    assert _first(commands, "--logical-resource-id SyncCoreLayer") < _first(commands, "update-function-configuration")
    assert _first(commands, "update-function-configuration") < _first(commands, "delete-layer-version")


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
