"""Salesforce connector: OAuth 2.0 + REST API through simple-salesforce, mapped to canonical."""

from pshub.connectors.salesforce.client import SalesforceConnector

__all__ = ["SalesforceConnector"]
