"""Salesforce sandbox: REST API, OAuth, SOQL, limits and change events over HTTPS."""

from pshub.sandboxes.salesforce.app import create_app

__all__ = ["create_app"]
