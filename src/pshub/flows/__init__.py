"""Durable workflows (the process APIs). They orchestrate; the domain decides."""
