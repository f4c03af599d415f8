"""Leaf modules every layer may use: settings, the outbound HTTP guard, log
redaction and the shape of a message sent to Slack. Nothing here imports the
rest of partnerbot (see README, Layout)."""
