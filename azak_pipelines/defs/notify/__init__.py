"""Telegram notifications: the outbox asset, the operators' sensors and the Telegram resource."""
