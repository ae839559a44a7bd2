"""Kantata OX (formerly Mavenlink) PSA sandbox: workspaces, stories, users, external references.

One module per resource group (``workspaces``, ``stories``, ``users``) on shared envelope,
paging, error and external-reference helpers, so time entries, expenses, billing milestones
and invoices can be added as further modules. Build it with :func:`create_app`.
"""

from pshub.sandboxes.kantata.app import create_app

__all__ = ["create_app"]
