"""NetSuite connector (SuiteTalk REST web services, token-based authentication)."""

from pshub.connectors.netsuite.client import NetSuiteConnector

__all__ = ["NetSuiteConnector"]
