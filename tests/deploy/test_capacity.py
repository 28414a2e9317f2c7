"""The stages' capacity settings against the model in docs/capacity.md, and the alarms that warn before a
limit is reached. The model's inputs are read from the doc's "Model inputs" table, so doc and check
cannot drift apart."""

import re
import tomllib

import pytest

from tests.deploy.conftest import ROOT

STAGES = ["dev", "staging", "prod"]
INPUT_ROW = re.compile(r"^\| `(\w+)` \| ([\d.]+) \|", re.MULTILINE)
HEADROOM_ALARMS = {
    # alarm: (the parameter its threshold is a share of, the metric it watches)
    "ApiThrottleHeadroomAlarm": ("ThrottlingRateLimit", "Count"),
    "LambdaConcurrencyHeadroomAlarm": ("LambdaConcurrencyQuota", "ConcurrentExecutions"),
    "AuroraCapacityHeadroomAlarm": ("AuroraMaxCapacity", "ServerlessDatabaseCapacity"),
}


def model_inputs() -> dict[str, float]:
    found = INPUT_ROW.findall((ROOT / "docs" / "capacity.md").read_text())
    assert found, "docs/capacity.md has no model inputs table"
    return {name: float(value) for name, value in found}


def stage_parameters(template: dict, stage: str) -> dict[str, float | str]:
    """What a stage deploys with: its samconfig overrides over the template's defaults."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())[stage]["deploy"]["parameters"]
    given = dict(item.split("=", 1) for item in config["parameter_overrides"])
    defaults = {name: spec["Default"] for name, spec in template["Parameters"].items() if "Default" in spec}
    merged = {**defaults, **given}
    numbers = {name for name, spec in template["Parameters"].items() if spec["Type"] == "Number"}
    return {name: float(value) if name in numbers else value for name, value in merged.items()}


def aurora_max_connections(min_acu: float, max_acu: float) -> float:
    """Aurora PostgreSQL Serverless v2's max_connections follows the memory of the maximum ACU; with a
    minimum under 1 ACU it is capped at 2,000 (docs/capacity.md, "Connections")."""
    per_acu = model_inputs()["max_connections_per_acu"]
    ceiling = 2000 if min_acu < 1 else 5000
    return min(ceiling, per_acu * max_acu)


@pytest.mark.parametrize("stage", STAGES)
def test_the_burst_holds_at_least_a_second_of_the_rate(template, stage):
    given = stage_parameters(template, stage)
    assert given["ThrottlingBurstLimit"] >= given["ThrottlingRateLimit"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_throttle_refuses_before_the_writer_runs_out_of_cpu(template, stage):
    model, given = model_inputs(), stage_parameters(template, stage)
    cpu_needed = given["ThrottlingRateLimit"] * model["postgres_cpu_ms_per_request"] / 1000
    cpu_there = given["AuroraMaxCapacity"] * model["vcpu_per_acu"] * model["target_utilization"]
    assert cpu_needed <= cpu_there, f"{stage}: {cpu_needed:.2f} vCPU needed at the throttle, {cpu_there:.2f} there"


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_throttle_fits_in_the_lambda_concurrency_quota(template, stage):
    model, given = model_inputs(), stage_parameters(template, stage)
    concurrency = given["ThrottlingRateLimit"] * model["handler_p99_ms"] / 1000
    assert concurrency <= given["LambdaConcurrencyQuota"] * model["target_utilization"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_throttle_fits_in_the_proxys_database_connections(template, stage):
    model, given = model_inputs(), stage_parameters(template, stage)
    borrowed = given["ThrottlingRateLimit"] * model["statement_p99_ms"] / 1000
    pool = aurora_max_connections(given["AuroraMinCapacity"], given["AuroraMaxCapacity"])
    assert borrowed <= pool * given["ProxyMaxConnectionsPercent"] / 100 * model["target_utilization"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_serves_the_active_editors_it_is_sized_for(template, stage):
    model, given = model_inputs(), stage_parameters(template, stage)
    peak = model[f"{stage}_active_editors"] * model["requests_per_editor_per_minute"] / 60 * model["peak_factor"]
    assert peak <= given["ThrottlingRateLimit"], f"{stage}: {peak:.0f} requests/s at peak"


def test_the_proxy_opens_the_share_of_connections_the_stage_sets(template):
    pool = template["Resources"]["DatabaseProxyTargetGroup"]["Properties"]["ConnectionPoolConfigurationInfo"]
    assert pool["MaxConnectionsPercent"] == {"Ref": "ProxyMaxConnectionsPercent"}
    assert pool["MaxIdleConnectionsPercent"] <= template["Parameters"]["ProxyMaxConnectionsPercent"]["Default"]


@pytest.mark.parametrize("alarm", HEADROOM_ALARMS)
def test_each_headroom_alarm_fires_at_80_percent_of_its_parameter(template, alarm):
    parameter, metric = HEADROOM_ALARMS[alarm]
    properties = template["Resources"][alarm]["Properties"]
    assert properties["Threshold"] == 80 and properties["ComparisonOperator"] == "GreaterThanThreshold"
    returned = [query for query in properties["Metrics"] if query.get("ReturnData")]
    (expression,) = [query["Expression"] for query in returned]
    assert re.fullmatch(rf"100 \* \w+( / 60)? / \$\{{{parameter}\}}", expression["Fn::Sub"]), expression
    watched = [query["MetricStat"]["Metric"]["MetricName"] for query in properties["Metrics"] if "MetricStat" in query]
    assert watched == [metric]
    assert properties["AlarmActions"] == properties["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_the_database_alarms_watch_the_cluster_the_stack_creates_or_names(template):
    cluster = {"Fn::If": ["CreateDatabase", {"Ref": "DatabaseCluster"}, {"Ref": "DbClusterIdentifier"}]}
    for alarm in ("AuroraCapacityHeadroomAlarm", "DatabaseCpuAlarm"):
        resource = template["Resources"][alarm]
        assert resource["Condition"] == "HasDatabaseCluster"
        text = repr(resource["Properties"])
        assert repr(cluster) in text, alarm


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_gets_its_database_alarms(template, stage):
    given = stage_parameters(template, stage)
    assert given.get("CreateDatabase") == "true" or given.get("DbClusterIdentifier"), stage
