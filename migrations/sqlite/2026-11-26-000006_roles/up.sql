-- Roles an administrator can grant. `users.roles` stays the source of truth (space-separated
-- names, read as-is into the `roles` claim); this table names the roles that exist.
CREATE TABLE roles (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
INSERT INTO roles (name, description, created_at)
VALUES ('admin', 'Full access to the admin console', CURRENT_TIMESTAMP);

-- Admin user search, kept fast at millions of users: every query shape walks one index in
-- its ORDER BY and stops after a page (keyset paging, never OFFSET).
-- Email prefixes are ranges on the UNIQUE email index (addresses are stored lower-cased).
-- Name prefixes are ranges on lower(name); id breaks ties for the keyset.
CREATE INDEX users_name_lower ON users (lower(name), id);
-- The filters match few users, so each has a partial index in email order: a filtered page
-- reads only matching rows. The queries repeat these WHERE terms literally so that the
-- planner can prove they imply them.
CREATE INDEX users_disabled_email ON users (email) WHERE disabled;
CREATE INDEX users_unverified_email ON users (email) WHERE NOT email_verified;
CREATE INDEX users_admin_email ON users (email) WHERE (' ' || roles || ' ') LIKE '% admin %';
-- And in name order, for a name prefix with a filter.
CREATE INDEX users_disabled_name ON users (lower(name), id) WHERE disabled;
CREATE INDEX users_unverified_name ON users (lower(name), id) WHERE NOT email_verified;
CREATE INDEX users_admin_name ON users (lower(name), id) WHERE (' ' || roles || ' ') LIKE '% admin %';
