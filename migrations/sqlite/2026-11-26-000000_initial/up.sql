-- Portable schema: text ids, UTC timestamps, booleans. PostgreSQL has the same tables.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    -- stored lower-cased, so UNIQUE is case-insensitive
    email TEXT NOT NULL UNIQUE,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    -- space-separated role names, like an OAuth scope
    roles TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_created_at ON users (created_at);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of a 256-bit random secret; NULL for public clients
    secret_hash TEXT,
    name TEXT NOT NULL,
    -- JSON arrays of strings
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    grant_types TEXT NOT NULL DEFAULT '[]',
    resources TEXT NOT NULL DEFAULT '[]',
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    skip_consent BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    subject TEXT,
    ip TEXT,
    -- JSON object
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_subject ON audit_events (subject, occurred_at);
