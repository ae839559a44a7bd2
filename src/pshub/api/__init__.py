"""The HTTP API: webhooks, process and experience APIs, operations endpoints."""
