"""Code shared by the Rasa side and the connector: plain Python, and PyJWT (both environments have it)."""
