"""Month-end close and cross-system reconciliation.

``facts``: the hub's records of one legal entity and period, gathered in bulk;
``cases``: each contract's :class:`~pshub.domain.revenue.RevenueCase` from its facts;
``journals``: the engine's per-contract entries aggregated into a few balanced journals;
``reconcile``: contract value, booked, billed, recognised, deferred and unbilled across
CRM, PSA and ERP, every difference classified.
"""
