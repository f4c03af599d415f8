"""`retry` (every 15 minutes): re-send failed notifications and those a crashed
process left claimed, for up to 24 hours (delivery lives in jobs.delivery)."""

JOB_ID = "retry"
