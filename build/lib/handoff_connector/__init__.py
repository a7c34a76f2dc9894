"""Bot-to-human handoff for Rasa 3.6.

The package has three sides, one subpackage each:

* ``handoff_connector.rasa``: runs inside Rasa and the action server (policies,
  NLU component, web chat channel, actions, forms, ``init``); imports ``rasa``
  and ``rasa_sdk``. Install with the ``[rasa]`` extra.
* ``handoff_connector.service``: the connector, an aiohttp service agents talk
  to; imports neither ``rasa`` nor ``rasa_sdk``. Install with ``[connector]``.
* ``handoff_connector.common``: plain Python both sides use.
"""

__version__ = "0.2.0"
