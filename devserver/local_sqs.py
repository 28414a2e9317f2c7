"""A local SQS (moto's server) for the rate-limit events, and a poller that feeds them to the real
consumer handler the way Lambda's SQS event source does: receive a batch, invoke, delete what succeeded."""

import json
import logging
import os
import socket
import threading

from aws_lambda_powertools import Logger

logger = Logger(service="appframes-sync-devserver")
LOCAL_REGION = "us-east-1"
MAX_RECEIVES = 5  # then the DLQ, as the deployed queue's redrive policy does (tests/deploy checks it)


def start_local_sqs() -> str:
    """Start moto's server on a free port, point boto3's SQS at it, and create the queue and its DLQ."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    # moto's server is werkzeug's, which logs every poll of the consumer (one every few seconds).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": LOCAL_REGION,
    }.items():
        os.environ.setdefault(name, value)
    os.environ["AWS_ENDPOINT_URL_SQS"] = f"http://127.0.0.1:{port}"
    queue, _ = create_limit_event_queues(boto3.client("sqs", region_name=LOCAL_REGION), max_receives=MAX_RECEIVES)
    return queue


def create_limit_event_queues(client, *, max_receives: int) -> tuple[str, str]:
    """The rate-limit queue and its DLQ, which takes a message after `max_receives` failed receives."""
    dlq = client.create_queue(QueueName="appframes-limit-events-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}
    queue = client.create_queue(QueueName="appframes-limit-events", Attributes={"RedrivePolicy": json.dumps(redrive)})
    return queue["QueueUrl"], dlq


def start_consumer_poller(queue_url: str, consumer) -> threading.Thread:
    import boto3

    client = boto3.client("sqs", region_name=LOCAL_REGION)

    def poll_forever():
        while True:
            try:
                poll_once(client, queue_url, consumer, wait_seconds=5)
            except Exception:
                logger.exception("local consumer poll failed")

    thread = threading.Thread(target=poll_forever, name="limit-events-consumer", daemon=True)
    thread.start()
    return thread


def poll_once(client, queue_url: str, consumer, *, wait_seconds: int = 0) -> dict | None:
    """One poll of an SQS event source with ReportBatchItemFailures; None when the queue was empty."""
    messages = client.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=wait_seconds
    ).get("Messages", [])
    if not messages:
        return None
    answer = consumer({"Records": [sqs_record(message, queue_url) for message in messages]}, None)
    failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] in failed:
            client.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return answer


def sqs_record(message: dict, queue_url: str) -> dict:
    """An SQS message as the Lambda event source hands it to the function."""
    queue_name = queue_url.rsplit("/", 1)[-1]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message.get("ReceiptHandle", "receipt"),
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{LOCAL_REGION}:123456789012:{queue_name}",
        "awsRegion": LOCAL_REGION,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
