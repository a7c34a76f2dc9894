"""Two weeks of sample history for the demo's community help line (``seed-history``).

==========  ================================================================
``plans``   what happened, decided up front and deterministic: every bot
            conversation (its turns and the bot's answers), and what the
            people did with the handoffs some of them made
``events``  a planned conversation as the events Rasa's event broker writes
``seed``    writes it: the handoffs through the stores on a clock set to
            each moment, the conversations through the broker's fold
==========  ================================================================

The plans are the truth the tests check the figures against; nothing is read
back from the database to say what the figures should be.
"""

from handoff_connector.service.sample_history.plans import History, build
from handoff_connector.service.sample_history.seed import SOURCE, SampleHistoryError, seed

__all__ = ["SOURCE", "History", "SampleHistoryError", "build", "seed"]
