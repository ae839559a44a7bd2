"""Kantata OX (formerly Mavenlink) PSA connector: wire client, vendor records and mapping."""

from pshub.connectors.kantata.connector import KantataConnector

__all__ = ["KantataConnector"]
