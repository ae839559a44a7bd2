"""pshub: integration and orchestration hub for professional-services quote-to-cash."""

__version__ = "0.1.0"
