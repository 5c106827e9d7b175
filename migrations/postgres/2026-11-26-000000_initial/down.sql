DROP TABLE audit_events;
DROP TABLE clients;
DROP TABLE users;
