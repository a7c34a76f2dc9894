"""Bot-to-human handoff for Rasa.

The package has two sides that never import each other:

* Rasa side: ``nlu`` (FrustrationDetector), ``policy`` (HandoffPolicy,
  FrustrationPolicy) and ``actions`` / ``survey`` (custom actions). These import
  ``rasa`` or ``rasa_sdk``.
* ``handoff_connector.service``: the aiohttp connector that agents talk to. It
  imports neither ``rasa`` nor ``rasa_sdk``.

``frustration`` and ``context`` are plain Python shared by the Rasa side.
"""

__version__ = "0.1.0"
