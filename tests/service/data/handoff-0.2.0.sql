PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE handoffs (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    sender_id TEXT NOT NULL,
    channel TEXT,
    queue TEXT NOT NULL,
    state TEXT NOT NULL,
    trigger TEXT NOT NULL,
    reasons TEXT NOT NULL,
    context TEXT NOT NULL,
    agent_id TEXT,
    resolution TEXT,
    close_note TEXT,
    created_at REAL NOT NULL,
    claimed_at REAL,
    closed_at REAL,
    first_wait REAL,
    last_user_at REAL,
    notified_position INTEGER,
    notified_at REAL,
    contact TEXT,
    resume_token TEXT UNIQUE,
    resume_expires_at REAL
);
INSERT INTO handoffs VALUES('2487e4e6aa1846288d1e45e9a5dbc659','k1','u1','webchat','housing','closed','explicit','["explicit_request"]','{"sender_id": "u1", "slots": {"topic": "housing"}, "transcript": [{"role": "user", "text": "I got an eviction notice", "timestamp": "2026-06-01T10:00:00.000+00:00"}, {"role": "bot", "text": "Here is where to start", "timestamp": "2026-06-01T10:00:01.000+00:00"}]}','sarah','resolved','referred to legal aid',1780000007.5,1780000019.4999999999,1780000034.5,12.0,1780000025.4999999999,NULL,NULL,NULL,'resume-token-1',1780604834.4999999999);
INSERT INTO handoffs VALUES('e274ac8ef89f4d5dba7eaea470d7120a','k2','u2','rest','general','queued','frustration','["frustration_score:3"]','{"sender_id": "u2", "slots": {"topic": "housing"}, "transcript": [{"role": "user", "text": "I got an eviction notice", "timestamp": "2026-06-01T10:00:00.000+00:00"}, {"role": "bot", "text": "Here is where to start", "timestamp": "2026-06-01T10:00:01.000+00:00"}]}',NULL,NULL,NULL,1780000010.4999999999,NULL,NULL,NULL,1780000010.4999999999,NULL,NULL,NULL,NULL,NULL);
INSERT INTO handoffs VALUES('83567549eebf4f6a9bd8f65dc50f383b','k3','u3','callback','general','no_agent','cant_help','["out_of_scope"]','{"sender_id": "u3", "slots": {"topic": "housing"}, "transcript": [{"role": "user", "text": "I got an eviction notice", "timestamp": "2026-06-01T10:00:00.000+00:00"}, {"role": "bot", "text": "Here is where to start", "timestamp": "2026-06-01T10:00:01.000+00:00"}]}',NULL,NULL,NULL,1780000013.5,NULL,NULL,NULL,1780000013.5,NULL,NULL,'+15551234567',NULL,NULL);
INSERT INTO handoffs VALUES('942d412e700b4cb1b8def314f7c70ab7','k4','u4','webchat','housing','assigned','explicit','["explicit_request"]','{"sender_id": "u4", "slots": {"topic": "housing"}, "transcript": [{"role": "user", "text": "I got an eviction notice", "timestamp": "2026-06-01T10:00:00.000+00:00"}, {"role": "bot", "text": "Here is where to start", "timestamp": "2026-06-01T10:00:01.000+00:00"}]}','sarah',NULL,NULL,1780000016.4999999999,1780000046.5,NULL,30.0,1780000016.4999999999,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL REFERENCES handoffs (id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    at REAL NOT NULL
);
INSERT INTO transitions VALUES(1,'2487e4e6aa1846288d1e45e9a5dbc659',NULL,'requested','bot',1780000007.5);
INSERT INTO transitions VALUES(2,'2487e4e6aa1846288d1e45e9a5dbc659','requested','queued','bot',1780000007.5);
INSERT INTO transitions VALUES(3,'e274ac8ef89f4d5dba7eaea470d7120a',NULL,'requested','bot',1780000010.4999999999);
INSERT INTO transitions VALUES(4,'e274ac8ef89f4d5dba7eaea470d7120a','requested','queued','bot',1780000010.4999999999);
INSERT INTO transitions VALUES(5,'83567549eebf4f6a9bd8f65dc50f383b',NULL,'requested','bot',1780000013.5);
INSERT INTO transitions VALUES(6,'83567549eebf4f6a9bd8f65dc50f383b','requested','queued','bot',1780000013.5);
INSERT INTO transitions VALUES(7,'942d412e700b4cb1b8def314f7c70ab7',NULL,'requested','bot',1780000016.4999999999);
INSERT INTO transitions VALUES(8,'942d412e700b4cb1b8def314f7c70ab7','requested','queued','bot',1780000016.4999999999);
INSERT INTO transitions VALUES(9,'2487e4e6aa1846288d1e45e9a5dbc659','queued','assigned','agent:sarah',1780000019.4999999999);
INSERT INTO transitions VALUES(10,'2487e4e6aa1846288d1e45e9a5dbc659','assigned','closed','agent:sarah',1780000034.5);
INSERT INTO transitions VALUES(11,'83567549eebf4f6a9bd8f65dc50f383b','queued','no_agent','user',1780000043.4999999999);
INSERT INTO transitions VALUES(12,'942d412e700b4cb1b8def314f7c70ab7','queued','assigned','agent:sarah',1780000046.5);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL REFERENCES handoffs (id),
    role TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    client_id TEXT,
    created_at REAL NOT NULL,
    UNIQUE (handoff_id, role, client_id)
);
INSERT INTO messages VALUES(1,'2487e4e6aa1846288d1e45e9a5dbc659','agent','sarah','Hi, I''m Sarah',NULL,1780000021.0);
INSERT INTO messages VALUES(2,'2487e4e6aa1846288d1e45e9a5dbc659','user','u1','Thanks, my landlord gave me 3 days','m1',1780000025.4999999999);
INSERT INTO messages VALUES(3,'2487e4e6aa1846288d1e45e9a5dbc659','agent','sarah','Let''s look at your options','c1',1780000028.5);
INSERT INTO messages VALUES(4,'2487e4e6aa1846288d1e45e9a5dbc659','note','sarah','Tenant rights referral',NULL,1780000031.5);
CREATE TABLE surveys (
    handoff_id TEXT PRIMARY KEY REFERENCES handoffs (id),
    rating INTEGER,
    comment TEXT,
    skipped INTEGER NOT NULL,
    created_at REAL NOT NULL
);
INSERT INTO surveys VALUES('2487e4e6aa1846288d1e45e9a5dbc659',5,'very helpful',0,1780000037.4999999999);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    delivered_at REAL,
    last_error TEXT
);
INSERT INTO outbox VALUES(1,'2487e4e6aa1846288d1e45e9a5dbc659','u1','message','{"agent_id": "sarah", "agent_name": "Sarah", "agent_title": "housing specialist", "text": "Hi, I''m Sarah", "message_id": 1}',1780000021.0,0,1780000021.0,1780000042.0,NULL);
INSERT INTO outbox VALUES(2,'2487e4e6aa1846288d1e45e9a5dbc659','u1','message','{"agent_id": "sarah", "agent_name": "Sarah", "text": "Let''s look at your options", "message_id": 3}',1780000028.5,0,1780000028.5,NULL,NULL);
INSERT INTO outbox VALUES(3,'2487e4e6aa1846288d1e45e9a5dbc659','u1','close','{"intent": "EXTERNAL_handoff_closed"}',1780000034.5,0,1780000034.5,NULL,NULL);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    handoff_id TEXT,
    queue TEXT,
    agent_id TEXT,
    previous_agent_id TEXT,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
INSERT INTO events VALUES(1,'agent.presence',NULL,NULL,NULL,NULL,'{"agent_id": "sarah", "presence": "online"}',1780000006.0);
INSERT INTO events VALUES(2,'handoff.created','2487e4e6aa1846288d1e45e9a5dbc659','housing',NULL,NULL,'{"handoff": {"id": "2487e4e6aa1846288d1e45e9a5dbc659", "state": "queued", "queue": "housing", "trigger": "explicit", "reasons": ["explicit_request"], "sender_id": "u1", "channel": "webchat", "agent_id": null, "created_at": 1780000007.5, "claimed_at": null, "closed_at": null, "resolution": null, "contact": null, "last_user_text": "I got an eviction notice"}}',1780000009.0);
INSERT INTO events VALUES(3,'handoff.created','e274ac8ef89f4d5dba7eaea470d7120a','general',NULL,NULL,'{"handoff": {"id": "e274ac8ef89f4d5dba7eaea470d7120a", "state": "queued", "queue": "general", "trigger": "frustration", "reasons": ["frustration_score:3"], "sender_id": "u2", "channel": "rest", "agent_id": null, "created_at": 1780000010.5, "claimed_at": null, "closed_at": null, "resolution": null, "contact": null, "last_user_text": "I got an eviction notice"}}',1780000012.0);
INSERT INTO events VALUES(4,'handoff.created','83567549eebf4f6a9bd8f65dc50f383b','general',NULL,NULL,'{"handoff": {"id": "83567549eebf4f6a9bd8f65dc50f383b", "state": "queued", "queue": "general", "trigger": "cant_help", "reasons": ["out_of_scope"], "sender_id": "u3", "channel": "callback", "agent_id": null, "created_at": 1780000013.5, "claimed_at": null, "closed_at": null, "resolution": null, "contact": null, "last_user_text": "I got an eviction notice"}}',1780000015.0);
INSERT INTO events VALUES(5,'handoff.created','942d412e700b4cb1b8def314f7c70ab7','housing',NULL,NULL,'{"handoff": {"id": "942d412e700b4cb1b8def314f7c70ab7", "state": "queued", "queue": "housing", "trigger": "explicit", "reasons": ["explicit_request"], "sender_id": "u4", "channel": "webchat", "agent_id": null, "created_at": 1780000016.5, "claimed_at": null, "closed_at": null, "resolution": null, "contact": null, "last_user_text": "I got an eviction notice"}}',1780000018.0);
INSERT INTO events VALUES(6,'handoff.message','2487e4e6aa1846288d1e45e9a5dbc659','housing','sarah',NULL,'{"handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "message": {"id": 1, "handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "role": "agent", "author": "sarah", "text": "Hi, I''m Sarah", "client_id": null, "created_at": 1780000021.0}}',1780000022.4999999999);
INSERT INTO events VALUES(7,'handoff.assigned','2487e4e6aa1846288d1e45e9a5dbc659','housing','sarah',NULL,'{"handoff": {"id": "2487e4e6aa1846288d1e45e9a5dbc659", "state": "assigned", "queue": "housing", "trigger": "explicit", "reasons": ["explicit_request"], "sender_id": "u1", "channel": "webchat", "agent_id": "sarah", "created_at": 1780000007.5, "claimed_at": 1780000019.5, "closed_at": null, "resolution": null, "contact": null, "last_user_text": "I got an eviction notice"}}',1780000024.0);
INSERT INTO events VALUES(8,'handoff.message','2487e4e6aa1846288d1e45e9a5dbc659','housing','sarah',NULL,'{"handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "message": {"id": 2, "handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "role": "user", "author": "u1", "text": "Thanks, my landlord gave me 3 days", "client_id": "m1", "created_at": 1780000025.5}}',1780000027.0);
INSERT INTO events VALUES(9,'handoff.message','2487e4e6aa1846288d1e45e9a5dbc659','housing','sarah',NULL,'{"handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "message": {"id": 3, "handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "role": "agent", "author": "sarah", "text": "Let''s look at your options", "client_id": "c1", "created_at": 1780000028.5}}',1780000030.0);
INSERT INTO events VALUES(10,'handoff.message','2487e4e6aa1846288d1e45e9a5dbc659','housing','sarah',NULL,'{"handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "message": {"id": 4, "handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "role": "note", "author": "sarah", "text": "Tenant rights referral", "client_id": null, "created_at": 1780000031.5}}',1780000033.0);
INSERT INTO events VALUES(11,'handoff.closed','2487e4e6aa1846288d1e45e9a5dbc659','housing','sarah',NULL,'{"handoff": {"id": "2487e4e6aa1846288d1e45e9a5dbc659", "state": "closed", "queue": "housing", "trigger": "explicit", "reasons": ["explicit_request"], "sender_id": "u1", "channel": "webchat", "agent_id": "sarah", "created_at": 1780000007.5, "claimed_at": 1780000019.5, "closed_at": 1780000034.5, "resolution": "resolved", "contact": null, "last_user_text": "I got an eviction notice"}}',1780000036.0);
INSERT INTO events VALUES(12,'handoff.survey','2487e4e6aa1846288d1e45e9a5dbc659','housing','sarah',NULL,'{"handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "survey": {"handoff_id": "2487e4e6aa1846288d1e45e9a5dbc659", "rating": 5, "comment": "very helpful", "skipped": 0, "created_at": 1780000037.5}}',1780000039.0);
INSERT INTO events VALUES(13,'handoff.ticket','83567549eebf4f6a9bd8f65dc50f383b','general',NULL,NULL,'{"handoff": {"id": "83567549eebf4f6a9bd8f65dc50f383b", "state": "no_agent", "queue": "general", "trigger": "cant_help", "reasons": ["out_of_scope"], "sender_id": "u3", "channel": "callback", "agent_id": null, "created_at": 1780000013.5, "claimed_at": null, "closed_at": null, "resolution": null, "contact": "+15551234567", "last_user_text": "I got an eviction notice"}}',1780000045.0);
INSERT INTO events VALUES(14,'handoff.assigned','942d412e700b4cb1b8def314f7c70ab7','housing','sarah',NULL,'{"handoff": {"id": "942d412e700b4cb1b8def314f7c70ab7", "state": "assigned", "queue": "housing", "trigger": "explicit", "reasons": ["explicit_request"], "sender_id": "u4", "channel": "webchat", "agent_id": "sarah", "created_at": 1780000016.5, "claimed_at": 1780000046.5, "closed_at": null, "resolution": null, "contact": null, "last_user_text": "I got an eviction notice"}}',1780000048.0);
CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    api_token_hash TEXT UNIQUE,
    capacity INTEGER NOT NULL,
    presence TEXT NOT NULL DEFAULT 'offline',
    created_at REAL NOT NULL
);
INSERT INTO agents VALUES('sarah','Sarah','housing specialist','agent',NULL,'2fced8105cb6a1ac723542f61526090563745aad464bcb4cd1fe30918c95925d',3,'online',1780000001.5);
INSERT INTO agents VALUES('miguel','Miguel','benefits navigator','agent',NULL,'bb16a1b7db315294415019ff85f21c3e4e1c9a5cb0f659ec46254bff2f503d86',3,'offline',1780000003.0);
INSERT INTO agents VALUES('dana','Dana','supervisor','supervisor',NULL,'0cd6b82b2825481ca4708939465f5d22f553d28d44a7f5a971260ab4f4077d18',3,'offline',1780000004.4999999999);
CREATE TABLE queues (
    name TEXT PRIMARY KEY,
    team TEXT NOT NULL
);
INSERT INTO queues VALUES('general','Community Help team');
INSERT INTO queues VALUES('housing','Housing Help team');
INSERT INTO queues VALUES('food','Food team');
CREATE TABLE memberships (
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    queue TEXT NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, queue)
);
INSERT INTO memberships VALUES('sarah','general');
INSERT INTO memberships VALUES('sarah','housing');
INSERT INTO memberships VALUES('miguel','general');
INSERT INTO memberships VALUES('miguel','food');
INSERT INTO memberships VALUES('dana','general');
INSERT INTO memberships VALUES('dana','housing');
INSERT INTO memberships VALUES('dana','food');
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    expires_at REAL NOT NULL
);
CREATE TABLE login_failures (
    login TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until REAL NOT NULL
);
INSERT INTO login_failures VALUES('sarah',1,0.0);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('events',14);
INSERT INTO sqlite_sequence VALUES('transitions',12);
INSERT INTO sqlite_sequence VALUES('messages',4);
INSERT INTO sqlite_sequence VALUES('outbox',3);
CREATE INDEX handoffs_queue ON handoffs (state, queue, created_at);
CREATE INDEX handoffs_sender ON handoffs (sender_id, state);
CREATE INDEX outbox_pending ON outbox (delivered_at, sender_id, id);
COMMIT;
