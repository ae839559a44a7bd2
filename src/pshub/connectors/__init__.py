"""The system layer: one package per vendor, each a wire client plus a mapping.

Connectors know their vendor and the canonical model, nothing else. Vendor and HTTP errors
are translated into :mod:`pshub.connectors.errors` at the boundary.
"""
