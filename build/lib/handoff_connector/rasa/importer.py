"""HandoffImporter: the plugin's rules, NLU examples and domain, read from the package.

For bots that want the shipped handoff as it is, kept up to date with the
installed version, instead of the editable copies ``rasa-handoff init`` writes.
List it in config.yml after Rasa's own importer::

    importers:
      - name: RasaFileImporter
      - name: handoff_connector.rasa.importer.HandoffImporter

Rasa merges its domain with the project's; the project's own definitions win
where both have one.
"""

from __future__ import annotations

from typing import Any, List, Optional, Text

from rasa.shared.importers.rasa import RasaFileImporter

from handoff_connector.rasa.resources import domain_dir, rules_and_nlu_dir


class HandoffImporter(RasaFileImporter):
    """Reads the handoff's domain and training data from the installed package."""

    def __init__(
        self,
        config_file: Optional[Text] = None,
        domain_path: Optional[Text] = None,
        training_data_paths: Optional[List[Text]] = None,
        **kwargs: Any,
    ) -> None:
        # The project's config, domain and data come from RasaFileImporter;
        # this one adds only the package's files.
        super().__init__(
            config_file=None,
            domain_path=str(domain_dir()),
            training_data_paths=[str(rules_and_nlu_dir())],
        )
