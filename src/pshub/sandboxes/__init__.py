"""Faithful local stand-ins of each vendor's API, for the demo, tests and benchmarks.

Each sandbox is a real HTTP server (see :mod:`pshub.sandboxes.server`) that follows the
vendor's published wire format and can inject faults (:mod:`pshub.sandboxes.base`).
"""
