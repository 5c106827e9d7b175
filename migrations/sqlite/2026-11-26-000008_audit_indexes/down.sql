DROP INDEX sessions_created;
DROP INDEX audit_events_recent;
DROP INDEX audit_events_actor;
DROP INDEX audit_events_kind;
