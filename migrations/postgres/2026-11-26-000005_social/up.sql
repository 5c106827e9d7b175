-- Accounts at upstream providers (Google, GitHub, any OpenID provider) that sign a user in.
CREATE TABLE user_identities (
    -- 'google', 'github' or a configured provider's name
    provider TEXT NOT NULL,
    -- the provider's stable id: the ID token's `sub`, GitHub's numeric user id
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the address the provider gave at the last sign-in, for display
    email TEXT,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject),
    -- one account per provider and user, so "unlink GitHub" names one row
    UNIQUE (user_id, provider)
);

-- Upstream sign-ins in flight: what the callback needs, kept here rather than in the cookie.
CREATE TABLE upstream_logins (
    -- SHA-256 of the `state` sent upstream; the browser's cookie holds the state too
    state_hash TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    -- the authorization request to resume afterwards, if the flow began at /authorize
    request TEXT,
    -- set when a signed-in user links a provider from the account page
    link_user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX upstream_logins_expires ON upstream_logins (expires_at);

-- An upstream identity whose verified email belongs to an existing account: it is linked
-- only after the browser that brought it proves it owns that account.
CREATE TABLE pending_links (
    -- SHA-256 of the id kept in that browser's cookie
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT NOT NULL,
    request TEXT,
    -- SHA-256 of the single-use token mailed to the account's address, once one is asked for
    email_token_hash TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX pending_links_expires ON pending_links (expires_at);
