"""SQS consumer of rate-limit events: counts each once, blocks the writes of users who keep getting throttled."""

from sync_core.adapters.limit_consumer import build_consumer

handler = build_consumer()
