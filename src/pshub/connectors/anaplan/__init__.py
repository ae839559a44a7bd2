"""The Anaplan (FP&A) connector: chunked file upload, module import, failure dump, export."""

from pshub.connectors.anaplan.connector import DEFAULT_CHUNK_SIZE, AnaplanConnector
from pshub.connectors.anaplan.results import ImportOutcome, RejectedRow

__all__ = ["DEFAULT_CHUNK_SIZE", "AnaplanConnector", "ImportOutcome", "RejectedRow"]
