"""Salesforce sandbox and connector over HTTPS."""
