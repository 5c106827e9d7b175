-- Roles an administrator can grant. `users.roles` stays the source of truth (space-separated
-- names, read as-is into the `roles` claim); this table names the roles that exist.
CREATE TABLE roles (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
INSERT INTO roles (name, description, created_at)
VALUES ('admin', 'Full access to the admin console', now() AT TIME ZONE 'UTC');

-- Admin user search, kept fast at millions of users: every query shape walks one index in
-- its ORDER BY and stops after a page (keyset paging, never OFFSET).
-- Prefix ranges need byte order: under a linguistic collation (en_US...) the strings that
-- start with a prefix are not one contiguous range. So the search indexes and queries use
-- COLLATE "C" (what SQLite's BINARY order is), whatever the database's default collation.
CREATE INDEX users_email_c ON users ((email COLLATE "C"));
CREATE INDEX users_name_lower ON users ((lower(name) COLLATE "C"), id);
-- The filters match few users, so each has a partial index in email order: a filtered page
-- reads only matching rows. The queries repeat these WHERE terms literally, because a
-- prepared statement's parameter cannot prove a partial index's predicate.
CREATE INDEX users_disabled_email ON users ((email COLLATE "C")) WHERE disabled;
CREATE INDEX users_unverified_email ON users ((email COLLATE "C")) WHERE NOT email_verified;
CREATE INDEX users_admin_email ON users ((email COLLATE "C")) WHERE (' ' || roles || ' ') LIKE '% admin %';
-- And in name order, for a name prefix with a filter.
CREATE INDEX users_disabled_name ON users ((lower(name) COLLATE "C"), id) WHERE disabled;
CREATE INDEX users_unverified_name ON users ((lower(name) COLLATE "C"), id) WHERE NOT email_verified;
CREATE INDEX users_admin_name ON users ((lower(name) COLLATE "C"), id) WHERE (' ' || roles || ' ') LIKE '% admin %';
