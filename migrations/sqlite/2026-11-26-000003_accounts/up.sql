-- Single-use links sent by email: address verification and password reset.
CREATE TABLE one_time_tokens (
    -- SHA-256 of the token; the token itself exists only in the email
    token_hash TEXT PRIMARY KEY NOT NULL,
    -- 'verify_email' or 'reset_password'
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the address the link was sent to (verification proves this address)
    email TEXT NOT NULL,
    -- the authorization request to resume afterwards, if the flow began at /authorize
    request TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, kind, created_at);
