"""Canonical model and business rules. Pure: no I/O, no clock, no database.

Imports only the standard library, ``decimal`` and pydantic (checked by a test).
"""
