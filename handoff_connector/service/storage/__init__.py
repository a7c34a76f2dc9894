"""The connector's storage: one database layer, one store per concern.

===============  ==========================================================
``handoffs``     the lifecycle: create, claim, transfer, close, resume, ...
``assignments``  who should take a waiting conversation: a supervisor's choice, round robin
``help``         agents asking a supervisor for help on a conversation
``messages``     what is said during a handoff, notes, its transitions
``line``         places in line, past waits, abandonment
``surveys``      the user's rating
``saved_replies`` the team's and each agent's saved replies
``insights``     the supervisor's figures: the line now, and over a period
``accounts``     agents, queues, sessions, presence, open desks
``people``       administration: profiles, accounts, roles, queues (the CLI and the admin page)
``photos``       agents' photos, shared by every instance
``outbox``       deliveries to Rasa, leased per conversation
``events``       the live event log the desks follow
``leases``       cluster-wide work (housekeeping), one instance at a time
``conversations`` every bot conversation, from Rasa's event broker
``history``      the record: filters, full-text search, one conversation's all
``erasure``      retention and redaction of what was said
===============  ==========================================================
"""

from __future__ import annotations

import time
import uuid
from typing import Callable

from handoff_connector.service.storage.accounts import Accounts, Agent
from handoff_connector.service.storage.assignments import Assignments
from handoff_connector.service.storage.conversations import Conversations
from handoff_connector.service.storage.database import Database, StoreClosed
from handoff_connector.service.storage.dispatches import Dispatches
from handoff_connector.service.storage.erasure import Erasure
from handoff_connector.service.storage.events import EventLog
from handoff_connector.service.storage.follow_ups import FollowUps
from handoff_connector.service.storage.handoffs import Handoffs
from handoff_connector.service.storage.help import HelpRequests
from handoff_connector.service.storage.history import History
from handoff_connector.service.storage.insights import Insights
from handoff_connector.service.storage.leases import Leases
from handoff_connector.service.storage.line import Line
from handoff_connector.service.storage.messages import Messages
from handoff_connector.service.storage.outbox import Outbox
from handoff_connector.service.storage.people import People
from handoff_connector.service.storage.photos import Photos
from handoff_connector.service.storage.records import summary
from handoff_connector.service.storage.reminders import Reminders
from handoff_connector.service.storage.saved_replies import SavedReplies
from handoff_connector.service.storage.surveys import Surveys
from handoff_connector.service.storage.urgency import UrgencyStore

__all__ = ["Agent", "Storage", "StoreClosed", "summary"]


class Storage:
    """Every store over one database; ``instance`` names this process in leases."""

    def __init__(self, database: str, clock: Callable[[], float] = time.time,
                 instance: str | None = None) -> None:
        self.instance = instance or uuid.uuid4().hex[:12]
        self.db = Database(database, clock)
        self.events = EventLog(self.db)
        self.accounts = Accounts(self.db, self.events)
        self.people = People(self.db, self.events, self.accounts)
        self.photos = Photos(self.db, self.events, self.people)
        self.handoffs = Handoffs(self.db, self.events)
        self.assignments = Assignments(self.db, self.events)
        self.help = HelpRequests(self.db, self.events)
        self.messages = Messages(self.db, self.events)
        self.line = Line(self.db, self.events)
        self.urgency = UrgencyStore(self.db, self.events)
        self.reminders = Reminders(self.db, self.events)
        self.surveys = Surveys(self.db, self.events)
        self.saved_replies = SavedReplies(self.db)
        self.insights = Insights(self.db)
        self.outbox = Outbox(self.db, self.instance, self.events)
        self.leases = Leases(self.db, self.instance)
        self.conversations = Conversations(self.db)
        self.history = History(self.db, self.events)
        self.erasure = Erasure(self.db, self.events, self.instance)
        self.follow_ups = FollowUps(self.db, self.events)
        self.dispatches = Dispatches(self.db, self.instance, self.events)

    @property
    def postgres(self) -> bool:
        return self.db.postgres

    async def open(self, upgrade: bool = True) -> None:
        await self.db.open(upgrade)
        self.events.start()

    async def shutdown(self) -> None:
        await self.events.stop()
        await self.db.shutdown()
