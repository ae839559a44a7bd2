"""NetSuite (SuiteTalk REST web services) sandbox: record service, TBA, concurrency governance.

Build it with :func:`pshub.sandboxes.netsuite.app.create_app`; record types are registered in
:mod:`.entities` through the registry in :mod:`.records`.
"""

from pshub.sandboxes.netsuite.app import create_app
from pshub.sandboxes.netsuite.entities import DEFAULT_CURRENCY_IDS, DEFAULT_SUBSIDIARIES

__all__ = ["DEFAULT_CURRENCY_IDS", "DEFAULT_SUBSIDIARIES", "create_app"]
