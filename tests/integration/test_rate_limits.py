"""Per-user rate limits in the request's own statement, limit events on SQS (moto), and the
consumer that escalates repeated throttling into a temporary block."""

import json
import socket
import time
import uuid

import boto3
import psycopg
import pytest

from devserver.local_sqs import create_limit_event_queues, poll_once
from devserver.local_sqs import sqs_record as local_sqs_record
from sync_core.adapters.assembly import api_app, limit_consumer
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import ROUTERS
from sync_core.adapters.settings import LocalServerSettings
from sync_core.domain.limits import LimitEvent, LimitEventKind, Scope
from tests.conftest import AWS_REGION as REGION
from tests.conftest import TEST_SECRET
from tests.support.database import hold_uncommitted
from tests.support.lambda_events import http_api_event, invoke


@pytest.fixture
def sqs(aws):
    """The rate-limit queue and its DLQ (after 2 receives), as template.yaml makes them, in moto."""
    client = boto3.client("sqs", region_name=REGION)
    queue, dlq = create_limit_event_queues(client, max_receives=2)
    return client, queue, dlq


def limited_settings(database_url: str, **overrides) -> LocalServerSettings:
    defaults = {
        "database_url": database_url,
        "better_auth_secret": TEST_SECRET,
        "aws_region": REGION,
        "rate_limit_write_per_minute": 30,  # one token every 2 seconds
        "rate_limit_write_burst": 3,
        "rate_limit_read_per_minute": 600,
        "rate_limit_read_burst": 50,
        "rate_limit_throttles_to_block": 3,
        "rate_limit_block_seconds": 3,
    }
    return LocalServerSettings(**{**defaults, **overrides})


def api_handler(settings: LocalServerSettings):
    return HttpApiHandler(api_app(*ROUTERS.values(), settings=settings))


def put(handler, user, project_id=None, body=None):
    body = body or json.dumps({"name": "n", "data": {}, "baseRevision": 0})
    path = f"/api/projects/{project_id or uuid.uuid4()}"
    return invoke(handler, http_api_event("PUT", path, cookies=[user.cookie], body=body))


def put_while_held(database_url: str, handler, user, other_request_sql: str):
    """A PUT sent while another request's `other_request_sql` (on the user's id) is uncommitted."""
    other_request = hold_uncommitted(database_url, other_request_sql, (user.id,))
    response = put(handler, user)
    other_request.join()
    return response


def queued_events(client, queue) -> list[dict]:
    messages = client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_a_burst_over_the_limit_gets_429_with_retry_after_and_others_are_unaffected(database_url, new_user):
    handler = api_handler(limited_settings(database_url))
    abuser, bystander = new_user(), new_user()
    assert [put(handler, abuser).status for _ in range(3)] == [200, 200, 200]
    refused_id = uuid.uuid4()
    refused = put(handler, abuser, refused_id)
    assert refused.status == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["retry-after"] == "2"
    assert invoke(handler, http_api_event("GET", f"/api/projects/{refused_id}", cookies=[abuser.cookie])).status == 404
    assert invoke(handler, http_api_event("GET", "/api/projects", cookies=[abuser.cookie])).status == 200, (
        "reads have their own bucket"
    )
    assert [put(handler, bystander).status for _ in range(3)] == [200, 200, 200]

    time.sleep(int(refused.headers["retry-after"]))
    assert put(handler, abuser).status == 200


def test_deletes_share_the_write_limit(database_url, new_user):
    handler = api_handler(limited_settings(database_url, rate_limit_write_burst=2))
    user = new_user()
    project_id = uuid.uuid4()
    assert put(handler, user, project_id).status == 200
    assert put(handler, user).status == 200
    deleted = invoke(handler, http_api_event("DELETE", f"/api/projects/{project_id}", cookies=[user.cookie]))
    assert deleted.status == 429
    stored = invoke(handler, http_api_event("GET", f"/api/projects/{project_id}", cookies=[user.cookie]))
    assert stored.json()["deletedAt"] is None, "a throttled delete is not applied"


def test_reads_have_a_looser_limit_of_their_own(database_url, new_user):
    # A token a minute: six reads on a loaded machine can take over a second, which a faster refill would pay for.
    handler = api_handler(limited_settings(database_url, rate_limit_read_burst=5, rate_limit_read_per_minute=1))
    user = new_user()
    statuses = [invoke(handler, http_api_event("GET", "/api/projects", cookies=[user.cookie])).status for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert put(handler, user).status == 200


def test_limits_can_be_switched_off_per_stage(database_url, new_user):
    handler = api_handler(limited_settings(database_url, rate_limits_enabled=False, rate_limit_write_burst=1))
    user = new_user()
    assert [put(handler, user).status for _ in range(5)] == [200] * 5


def test_throttles_and_near_limit_bursts_become_sqs_events(database_url, new_user, sqs):
    client, queue, _ = sqs
    handler = api_handler(limited_settings(database_url, rate_limit_events_queue_url=queue, rate_limit_write_burst=4))
    user = new_user()
    statuses = [put(handler, user).status for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    events = queued_events(client, queue)
    assert [(event["kind"], event["scope"], event["userId"]) for event in events] == [
        ("burst", "write", user.id),
        ("throttled", "write", user.id),
    ]


def test_a_413_fires_a_hook_event(database_url, new_user, sqs):
    client, queue, _ = sqs
    handler = api_handler(limited_settings(database_url, rate_limit_events_queue_url=queue, max_body_bytes=1000))
    user = new_user()
    assert put(handler, user, body=json.dumps({"name": "n", "data": "x" * 2000, "baseRevision": 0})).status == 413
    assert [(event["kind"], event["userId"]) for event in queued_events(client, queue)] == [("body_too_large", user.id)]


def test_the_normal_path_sends_nothing(database_url, new_user, sqs):
    client, queue, _ = sqs
    handler = api_handler(limited_settings(database_url, rate_limit_events_queue_url=queue, rate_limit_write_burst=100))
    user = new_user()
    assert [put(handler, user).status for _ in range(5)] == [200] * 5
    assert queued_events(client, queue) == []


def test_the_consumer_escalates_repeated_throttling_into_a_block_that_lifts(database_url, new_user, sqs):
    client, queue, _ = sqs
    settings = limited_settings(database_url, rate_limit_events_queue_url=queue)
    handler, consumer = api_handler(settings), limit_consumer(settings)
    user, bystander = new_user(), new_user()
    statuses = [put(handler, user).status for _ in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]

    assert deliver(client, queue, consumer) == {"batchItemFailures": []}
    time.sleep(2)  # the bucket has a token again: only the block can refuse now
    blocked = put(handler, user)
    assert blocked.status == 429
    assert "blocked" in blocked.json()["error"]["message"]
    assert 1 <= int(blocked.headers["retry-after"]) <= 3
    assert put(handler, bystander).status == 200

    time.sleep(int(blocked.headers["retry-after"]))
    assert put(handler, user).status == 200, "the block lifts by itself"


def test_a_redelivered_event_counts_once(database_url, new_user, sqs):
    _, queue, _ = sqs
    settings = limited_settings(database_url, rate_limit_events_queue_url=queue)
    consumer = limit_consumer(settings)
    user = new_user()
    event = LimitEvent(LimitEventKind.THROTTLED, user.id, Scope.WRITE).to_json()
    records = [sqs_record(event, message_id) for message_id in ("m1", "m2", "m3")]
    assert consumer({"Records": records}, None) == {"batchItemFailures": []}
    with psycopg.connect(database_url) as connection:
        count = connection.execute('SELECT count(*) FROM rate_limit_events WHERE "userId" = %s', (user.id,)).fetchone()
        blocks = connection.execute('SELECT count(*) FROM rate_limit_blocks WHERE "userId" = %s', (user.id,)).fetchone()
    assert count[0] == 1
    assert blocks[0] == 0, "three deliveries of one throttle are not three strikes"


def test_a_poison_message_lands_in_the_dlq_without_blocking_the_batch(database_url, new_user, sqs):
    client, queue, dlq = sqs
    consumer = limit_consumer(limited_settings(database_url, rate_limit_events_queue_url=queue))
    user = new_user()
    good = LimitEvent(LimitEventKind.BURST, user.id, Scope.WRITE)
    client.send_message(QueueUrl=queue, MessageBody=good.to_json())
    client.send_message(QueueUrl=queue, MessageBody="{not an event")
    first = deliver(client, queue, consumer)
    assert len(first["batchItemFailures"]) == 1
    deliver(client, queue, consumer)  # the poison fails again: its second receive
    assert deliver(client, queue, consumer) is None, "nothing left: the poison moved to the DLQ"
    dead = client.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in dead] == ["{not an event"]
    with psycopg.connect(database_url) as connection:
        kinds = connection.execute('SELECT kind FROM rate_limit_events WHERE "userId" = %s', (user.id,)).fetchall()
    assert kinds == [("burst",)]


def deliver(client, queue, consumer) -> dict | None:
    return poll_once(client, queue, consumer)


def sqs_record(body: str, message_id: str) -> dict:
    return local_sqs_record({"MessageId": message_id, "Body": body}, "https://sqs/limit-events")


def test_a_deployed_stage_also_counts_limit_events_as_metrics(database_url, new_user, capsys):
    settings = limited_settings(database_url, rate_limit_write_burst=1, powertools_metrics_namespace="AppFrames/Sync")
    handler = api_handler(settings)
    user = new_user()
    assert [put(handler, user).status for _ in range(2)] == [200, 429]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"CloudWatchMetrics"' in line]
    names = [metric["Name"] for document in emitted for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["RateLimitBurst", "RateLimitThrottled"], "the first write drains the bucket, the second is refused"
    assert emitted[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AppFrames/Sync"


def test_retry_after_comes_from_the_bucket_that_refused_not_the_statements_snapshot(database_url, new_user):
    """Another request spends the last token and commits while this one waits for the bucket row."""
    handler = api_handler(limited_settings(database_url, rate_limit_write_per_minute=6, rate_limit_write_burst=5))
    user = new_user()
    assert put(handler, user).status == 200
    spend_last_token = (
        """UPDATE rate_limits SET tokens = 0, "refilledAt" = now() WHERE "userId" = %s AND scope = 'write'"""
    )
    refused = put_while_held(database_url, handler, user, spend_last_token)
    assert refused.status == 429
    assert int(refused.headers["retry-after"]) >= 9, "one token takes 10 s at 6 per minute"


def test_a_bucket_created_by_a_request_this_one_could_not_see_still_gives_retry_after(database_url, new_user):
    handler = api_handler(limited_settings(database_url, rate_limit_write_per_minute=6, rate_limit_write_burst=5))
    user = new_user()
    create_empty_bucket = (
        """INSERT INTO rate_limits ("userId", scope, tokens, "refilledAt") VALUES (%s, 'write', 0, now())"""
    )
    refused = put_while_held(database_url, handler, user, create_empty_bucket)
    assert refused.status == 429
    assert refused.headers["retry-after"] == "10"


def test_an_sqs_that_never_answers_delays_a_throttled_request_by_seconds_not_minutes(
    database_url, new_user, monkeypatch
):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{silent.getsockname()[1]}")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    queue = f"http://127.0.0.1:{silent.getsockname()[1]}/123456789012/limit-events"
    handler = api_handler(limited_settings(database_url, rate_limit_events_queue_url=queue, rate_limit_write_burst=1))
    user = new_user()
    assert put(handler, user).status == 200
    started = time.monotonic()
    assert put(handler, user).status == 429
    assert time.monotonic() - started < 5
    silent.close()


REFUSED_BODIES = {
    "invalid JSON": '{"name": "n", "data": {',
    "a \\u0000 escape": '{"name": "n", "data": "\\u0000", "baseRevision": 0}',
    "a number too large": '{"name": "n", "data": 1, "baseRevision": 1e1000000}',
    "nesting too deep": '{"name": "n", "baseRevision": 0, "data": ' + "[" * 200_000 + "]" * 200_000 + "}",
    "a wrong field": '{"name": 5, "data": {}, "baseRevision": 0}',
}


@pytest.mark.parametrize("body", REFUSED_BODIES.values(), ids=list(REFUSED_BODIES))
def test_a_refused_body_spends_its_token(database_url, new_user, body):
    handler = api_handler(limited_settings(database_url, rate_limit_write_burst=2))
    user = new_user()
    assert [put(handler, user, body=body).status // 100 for _ in range(2)] == [4, 4]
    assert put(handler, user, body=body).status == 429
    assert put(handler, user).status == 429, "the refused bodies emptied the bucket"


def test_an_oversized_body_spends_its_token(database_url, new_user):
    handler = api_handler(limited_settings(database_url, rate_limit_write_burst=2, max_body_bytes=1000))
    user = new_user()
    oversized = json.dumps({"name": "n", "data": "x" * 2000, "baseRevision": 0})
    assert [put(handler, user, body=oversized).status for _ in range(3)] == [413, 413, 429]


def test_a_throttled_user_gets_429_whatever_the_body(database_url, new_user):
    handler = api_handler(limited_settings(database_url, rate_limit_write_burst=1, max_body_bytes=10_000))
    user = new_user()
    assert put(handler, user).status == 200
    for body in [*REFUSED_BODIES.values(), json.dumps({"name": "n", "data": "x" * 20_000, "baseRevision": 0})]:
        assert put(handler, user, body=body).status == 429
    deleted = invoke(
        handler, http_api_event("DELETE", f"/api/projects/{uuid.uuid4()}", cookies=[user.cookie], body="{")
    )
    assert deleted.status == 429


def test_a_flood_of_malformed_bodies_is_throttled_then_blocked(database_url, new_user, sqs):
    client, queue, _ = sqs
    settings = limited_settings(database_url, rate_limit_events_queue_url=queue)
    handler, consumer = api_handler(settings), limit_consumer(settings)
    user = new_user()
    statuses = [put(handler, user, body=REFUSED_BODIES["invalid JSON"]).status for _ in range(6)]
    assert statuses == [400, 400, 400, 429, 429, 429]

    assert deliver(client, queue, consumer) == {"batchItemFailures": []}
    time.sleep(2)  # the bucket has a token again: only the block can refuse now
    blocked = put(handler, user)
    assert blocked.status == 429
    assert "blocked" in blocked.json()["error"]["message"]


def push(handler, user, changes: int, *, data_bytes: int = 10):
    batch = [
        {"id": str(uuid.uuid4()), "name": "n", "data": "x" * data_bytes, "baseRevision": 0} for _ in range(changes)
    ]
    event = http_api_event("POST", "/api/changes", cookies=[user.cookie], body=json.dumps({"changes": batch}))
    return invoke(handler, event)


def write_tokens_left(database_url: str, user, scope: str = "write") -> float:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            'SELECT tokens FROM public.rate_limits WHERE "userId" = %s AND scope = %s', (user.id, scope)
        ).fetchone()
    return row[0]


def test_a_batch_costs_a_write_token_per_change(database_url, new_user):
    handler = api_handler(limited_settings(database_url, rate_limit_write_burst=10, rate_limit_write_per_minute=0.01))
    user = new_user()
    assert push(handler, user, 4).status == 200
    assert write_tokens_left(database_url, user) == pytest.approx(6, abs=0.01)
    assert push(handler, user, 1).status == 200
    assert write_tokens_left(database_url, user) == pytest.approx(5, abs=0.01)


def test_a_batch_the_bucket_cannot_pay_is_refused_whole_and_spends_its_admission(database_url, new_user):
    handler = api_handler(limited_settings(database_url, rate_limit_write_burst=10, rate_limit_write_per_minute=6))
    user = new_user()
    assert push(handler, user, 7).status == 200
    refused = push(handler, user, 5)
    assert refused.status == 429, refused
    assert refused.json()["error"]["message"].startswith("over the write rate limit: a batch of 5 changes")
    assert int(refused.headers["retry-after"]) >= 10  # 2 tokens held after the admission's, 4 wanted at 0.1/s
    assert write_tokens_left(database_url, user) == pytest.approx(2, abs=0.1), "only the admission's token spent"
    with psycopg.connect(database_url) as connection:
        written = connection.execute('SELECT count(*) FROM public.projects WHERE "userId" = %s', (user.id,)).fetchone()
    assert written[0] == 7


def test_writes_are_charged_their_bytes_too(database_url, new_user):
    budget = 64 * 1024
    handler = api_handler(
        limited_settings(
            database_url,
            rate_limit_write_burst=100,
            max_body_bytes=budget,
            rate_limit_write_bytes_burst=budget,
            rate_limit_write_bytes_per_minute=60,
        )
    )
    user = new_user()
    first = push(handler, user, 4, data_bytes=10 * 1024)
    assert first.status == 200
    left = write_tokens_left(database_url, user, "write_bytes")
    assert budget - 45 * 1024 < left < budget - 40 * 1024, "charged the body's length: 4 changes of 10 KiB"
    refused = push(handler, user, 3, data_bytes=10 * 1024)
    assert refused.status == 429, refused
    assert refused.json()["error"]["message"].startswith("over the write_bytes rate limit")
    assert put(handler, user).status == 200, "a small write still fits the byte budget"


def test_a_batch_that_takes_the_bucket_below_its_soft_threshold_fires_one_burst_event(database_url, new_user, sqs):
    client, queue, _ = sqs
    settings = limited_settings(database_url, rate_limit_events_queue_url=queue, rate_limit_write_burst=20)
    handler = api_handler(settings)  # soft threshold 0.25: below 5 tokens left
    user = new_user()
    assert [push(handler, user, changes).status for changes in (10, 8, 4)] == [200, 200, 429]
    events = queued_events(client, queue)
    assert [(event["kind"], event["scope"]) for event in events] == [("burst", "write"), ("throttled", "write")]
