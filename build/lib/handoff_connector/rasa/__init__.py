"""The Rasa side of the handoff: what runs inside Rasa and the action server.

Dotted paths a designer writes in config.yml and credentials.yml (stable):
``handoff_connector.rasa.policy.HandoffPolicy``, ``...policy.FrustrationPolicy``,
``...policy.CantHelpPolicy``, ``handoff_connector.rasa.nlu.FrustrationDetector``,
``handoff_connector.rasa.channel.WebChatInput`` and, for the shipped files read
in place, ``handoff_connector.rasa.importer.HandoffImporter``. Actions:
``handoff_connector.rasa.actions`` and ``handoff_connector.rasa.survey``.
"""
