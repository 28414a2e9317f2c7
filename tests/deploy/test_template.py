"""template.yaml and samconfig.toml: linted, and wired to the code they deploy."""

import importlib.util
import json
import subprocess
import tomllib
import uuid
from pathlib import Path

import pytest

from devserver import cors as devserver_cors
from devserver import local_sqs
from sync_core.adapters.http.routes import ROUTERS
from sync_core.adapters.settings import ApiSettings
from tests.deploy.conftest import ROOT, functions, sam_environment
from tests.support.lambda_events import http_api_event, invoke

DEV_PREFIX = "/api/dev"


def http_routes(properties: dict) -> set[tuple[str, str]]:
    return {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in properties.get("Events", {}).values()
        if event["Type"] == "HttpApi"
    }


def load_handler_module(code_uri: str, handler: str):
    module_name, _, attribute = handler.rpartition(".")
    path = ROOT / code_uri / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"deployed_{Path(code_uri).name}_{module_name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, getattr(module, attribute)


def served_routes(handler) -> set[tuple[str, str]]:
    """(method, path) of every route the function's app serves."""
    return {(method, route.path) for route in handler.app.routes for method in route.methods}


def answer(handler, method: str, path: str) -> tuple[int, str]:
    """Status and error code a handler gives an unauthenticated API Gateway (v2) request. A HEAD answer
    has no body: its code is the one its GET's body gives."""
    concrete = path.replace("{project_id}", str(uuid.uuid4()))
    response = invoke(handler, http_api_event(method, concrete))
    described = invoke(handler, http_api_event("GET", concrete)) if method == "HEAD" else response
    body = described.json() if described.text else {}
    code = body.get("error", {}).get("code", "") if isinstance(body, dict) else ""
    return response.status, code


def test_sam_validate_lint(sam_tools):
    done = subprocess.run(
        [str(sam_tools / "sam"), "validate", "--lint", "--template-file", "template.yaml"],
        cwd=ROOT,
        env=sam_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cfn_lint(sam_tools):
    done = subprocess.run(
        [str(sam_tools / "cfn-lint"), "template.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_route_goes_to_the_function_whose_app_serves_it(template, lambda_environment):
    # Given every function the template declares with HttpApi events
    routed = {name: props for name, props in functions(template).items() if http_routes(props)}
    assert sorted(Path(props["CodeUri"]).name for props in routed.values()) == sorted(ROUTERS)
    for name, properties in routed.items():
        # When its handler module is imported as Lambda would
        _, handler = load_handler_module(properties["CodeUri"], properties["Handler"])
        # Then the app behind it serves exactly the routes API Gateway sends it
        assert served_routes(handler) == http_routes(properties), name
        # and answers them (401 without a session), while other functions' routes are not found there
        for method, path in http_routes(properties):
            assert answer(handler, method, path) == (401, "unauthenticated"), (name, method, path)
        for other, other_properties in routed.items():
            for method, path in http_routes(other_properties) - http_routes(properties):
                assert answer(handler, method, path)[0] in (404, 405), (name, other, method, path)


def test_every_handler_imports(template, lambda_environment):
    missing = []
    for name, properties in functions(template).items():
        if name == "RateLimitConsumerFunction" and not (ROOT / properties["CodeUri"] / "app.py").exists():
            missing.append(name)
            continue
        _, handler = load_handler_module(properties["CodeUri"], properties["Handler"])
        assert callable(handler), name
    if missing:
        pytest.xfail("functions/rate_limit_consumer/app.py arrives with issue 4")


def test_no_function_serves_the_dev_sign_in(template, lambda_environment):
    for name, properties in functions(template).items():
        assert not any(path.startswith(DEV_PREFIX) for _, path in http_routes(properties)), name
        if http_routes(properties):
            _, handler = load_handler_module(properties["CodeUri"], properties["Handler"])
            assert not any(path.startswith(DEV_PREFIX) for _, path in served_routes(handler)), name
            for method in ("GET", "POST"):
                assert answer(handler, method, f"{DEV_PREFIX}/sign-in") == (404, "route_not_found"), name
    # and nothing of the local dev server is packaged: functions ship only their own directory.
    for properties in functions(template).values():
        assert not (ROOT / properties["CodeUri"] / "devserver").exists()


def test_every_endpoint_is_wired_wherever_an_endpoint_needs_to_be(template):
    """An endpoint is a router in sync_core.adapters.http.routes.ROUTERS; this names what else it needs."""
    functions_by_code = {Path(props["CodeUri"]).name: name for name, props in functions(template).items()}
    alarm_metrics = {
        alarm: json.dumps(template["Resources"][alarm]["Properties"]["Metrics"])
        for alarm in ("FunctionErrorsAlarm", "FunctionThrottlesAlarm")
    }
    for endpoint in ROUTERS:
        assert (ROOT / "functions" / endpoint / "app.py").is_file(), f"functions/{endpoint}/app.py"
        assert (ROOT / "events" / f"{endpoint}.json").is_file(), f"events/{endpoint}.json"
        assert endpoint in functions_by_code, f"template.yaml: no function with CodeUri functions/{endpoint}"
        function = functions_by_code[endpoint]
        log_group = template["Resources"][function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup", function
        for alarm, metrics in alarm_metrics.items():
            assert json.dumps({"Ref": function}) in metrics, f"{alarm} does not watch {function}"


def test_runtime_architecture_and_build_method(template):
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    for name, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            assert resource["Metadata"]["BuildMethod"] == "makefile", name


def test_the_better_auth_secret_is_never_a_plain_environment_value(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert "BETTER_AUTH_SECRET" not in variables
    assert "BETTER_AUTH_SECRET_ID" in variables
    for properties in functions(template).values():
        assert "BETTER_AUTH_SECRET" not in properties.get("Environment", {}).get("Variables", {})


def policy_statements(template: dict, policies: list) -> list[dict]:
    """The statements of a function's policies: inline ones and the stack's managed policies it names."""
    documents = [
        template["Resources"][policy["Ref"]]["Properties"]["PolicyDocument"] if "Ref" in policy else policy
        for policy in policies
    ]
    return [statement for document in documents for statement in document.get("Statement", [])]


def db_user_of(template: dict, properties: dict) -> str:
    """The function's DB_USER as the template spells it: a role's name, or ${DbUser} for the parameter."""
    variables = {**template["Globals"]["Function"]["Environment"]["Variables"]}
    variables |= properties.get("Environment", {}).get("Variables", {})
    user = variables["DB_USER"]
    return "${DbUser}" if user == {"Ref": "DbUser"} else user


def test_every_function_reads_the_session_cookie_under_the_stages_better_auth_prefix(template):
    """A stage whose Better Auth sets advanced.cookiePrefix must be able to tell the functions."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["BETTER_AUTH_COOKIE_PREFIX"] == {"Ref": "BetterAuthCookiePrefix"}
    parameter = template["Parameters"]["BetterAuthCookiePrefix"]
    assert parameter["Default"] == ApiSettings.model_fields["better_auth_cookie_prefix"].default == "better-auth"


def test_each_function_may_connect_as_its_own_database_role_only(template):
    users = {}
    for name, properties in functions(template).items():
        statements = policy_statements(template, properties["Policies"])
        connect = [s for s in statements if s["Action"] == "rds-db:connect"]
        assert len(connect) == 1, name
        arn, _ = connect[0]["Resource"]["Fn::Sub"]
        users[name] = db_user_of(template, properties)
        assert arn.endswith(f":dbuser:${{ProxyId}}/{users[name]}"), name
    assert users.pop("MigrateFunction") == "${DbUser}", "the migrations run as the schema owner"
    assert users.pop("RateLimitConsumerFunction") == "appframes_limit_consumer"
    assert users.pop("PurgeTombstonesFunction") == users.pop("PurgeHistoryFunction") == "appframes_purge"
    assert set(users.values()) == {"appframes_api"}
    proxy = template["Resources"]["DatabaseProxy"]["Properties"]
    assert proxy["RequireTLS"] is True
    assert proxy["Auth"][0]["IAMAuth"] == "REQUIRED"


def test_every_function_that_can_publish_limit_events_may_send_them(template):
    """Every endpoint publishes (throttled reads too): each needs SQS send on the events queue."""
    assert "RATE_LIMIT_EVENTS_QUEUE_URL" in template["Globals"]["Function"]["Environment"]["Variables"]
    for name, properties in functions(template).items():
        if not any(event.get("Type") == "HttpApi" for event in properties.get("Events", {}).values()):
            continue
        senders = [policy for policy in properties["Policies"] if "SQSSendMessagePolicy" in policy]
        assert senders, f"{name} publishes limit events but may not send them"
        assert senders[0]["SQSSendMessagePolicy"]["QueueName"] == {"Fn::GetAtt": ["RateLimitEventsQueue", "QueueName"]}


def test_the_local_queue_moves_messages_to_its_dlq_as_the_deployed_one_does(template):
    redrive = template["Resources"]["RateLimitEventsQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == local_sqs.MAX_RECEIVES


def test_queue_visibility_covers_six_consumer_timeouts(template):
    resources = template["Resources"]
    consumer = resources["RateLimitConsumerFunction"]["Properties"]
    queue = resources["RateLimitEventsQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * consumer["Timeout"]
    assert "deadLetterTargetArn" in queue["RedrivePolicy"]
    (event,) = consumer["Events"].values()
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_each_stage_sets_every_required_parameter(template, stage):
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())[stage]["deploy"]["parameters"]
    given = dict(item.split("=", 1) for item in config["parameter_overrides"])
    required = {name for name, spec in template["Parameters"].items() if "Default" not in spec}
    assert required <= given.keys(), required - given.keys()
    assert given["Stage"] == stage
    assert config["stack_name"] == f"appframes-sync-{stage}"
    if given.get("CreateDatabase", "false") == "false":
        assert given.get("DbProxyEndpoint") and given.get("DbProxyResourceId")
    assert "*" not in given["CorsAllowOrigins"]


def test_the_http_api_answers_cors_as_the_local_server_does(template):
    cors = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowMethods"] == list(devserver_cors.ALLOW_METHODS)
    assert cors["AllowHeaders"] == list(devserver_cors.ALLOW_HEADERS)
    assert cors["ExposeHeaders"] == list(devserver_cors.EXPOSE_HEADERS)
    assert cors["MaxAge"] == devserver_cors.MAX_AGE_SECONDS
    assert cors["AllowCredentials"] == {"Fn::If": ["CorsAllowsCredentials", True, False]}
    assert template["Parameters"]["CorsAllowCredentials"]["Default"] == "false", "bearer mode needs no credentials"


def test_the_custom_domain_exists_only_when_a_stage_names_one(template):
    resources = template["Resources"]
    both_set = [{"Fn::Not": [{"Fn::Equals": [{"Ref": name}, ""]}]} for name in ("ApiDomainName", "ApiCertificateArn")]
    assert template["Conditions"]["HasApiDomain"] == {"Fn::And": both_set}
    assert resources["ApiDomain"]["Condition"] == resources["ApiDomainMapping"]["Condition"] == "HasApiDomain"
    mapping = resources["ApiDomainMapping"]["Properties"]
    assert mapping["ApiId"] == {"Ref": "HttpApi"}
    assert mapping["DomainName"] == {"Ref": "ApiDomain"}
    configuration = resources["ApiDomain"]["Properties"]["DomainNameConfigurations"]
    assert configuration == [
        {"CertificateArn": {"Ref": "ApiCertificateArn"}, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
    ]
    assert all(template["Outputs"][name]["Condition"] == "HasApiDomain" for name in ("ApiDomainUrl", "ApiDomainTarget"))


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_cookie_mode_comes_with_a_custom_domain(template, stage):
    """Credentials travel only to an API on the editor's own site: a cookie of another site's API is
    a third-party cookie, which browsers drop."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())[stage]["deploy"]["parameters"]
    given = dict(item.split("=", 1) for item in config["parameter_overrides"])
    if given.get("CorsAllowCredentials") == "true":
        assert given.get("ApiDomainName") and given.get("ApiCertificateArn")
        editor_sites = {origin.split("://", 1)[1].split(":")[0] for origin in given["CorsAllowOrigins"].split(",")}
        assert all(given["ApiDomainName"].endswith(f".{site}") for site in editor_sites), editor_sites


def test_every_function_that_writes_projects_is_updated_after_every_function_that_reads_them(template):
    # A deploy that moves where data lives (docs/migrations.md) is safe only if no old reader serves
    # while a new writer does: CloudFormation updates a resource after those it depends on.
    routed = {name: http_routes(props) for name, props in functions(template).items() if http_routes(props)}
    readers = {name for name, routes in routed.items() if all(method in ("GET", "HEAD") for method, _ in routes)}
    writers = set(routed) - readers
    assert readers and writers
    for writer in writers:
        assert readers <= set(template["Resources"][writer].get("DependsOn", [])), writer
