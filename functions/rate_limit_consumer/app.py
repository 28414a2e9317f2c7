"""SQS consumer of rate-limit events: counts each once, blocks the writes of users who keep getting throttled."""

from sync_core.adapters.assembly import limit_consumer

handler = limit_consumer()
