-- The admin audit log filters by kind, actor or subject and pages newest first on
-- (occurred_at, id); the dashboard counts `login.succeeded` / `login.failed` per day. Each
-- index serves one of those as a range scan, so neither reads the whole table.
CREATE INDEX audit_events_kind ON audit_events (kind, occurred_at);
CREATE INDEX audit_events_actor ON audit_events (actor, occurred_at);
-- The keyset order of the unfiltered log (the older occurred_at index breaks no ties).
CREATE INDEX audit_events_recent ON audit_events (occurred_at, id);
-- The sessions page lists live sessions of all users, newest first.
CREATE INDEX sessions_created ON sessions (created_at, id);
