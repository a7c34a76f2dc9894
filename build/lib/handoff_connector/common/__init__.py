"""Plain Python shared by the Rasa side and the connector (no third-party imports)."""
