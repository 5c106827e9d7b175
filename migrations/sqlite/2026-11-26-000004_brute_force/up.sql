-- Failed sign-ins per email address, so every replica sees the same count (and lock).
CREATE TABLE login_failures (
    -- SHA-256 of the normalised email: unknown addresses are counted too (so their answers
    -- look the same as real ones'), without the table holding the addresses people typed
    subject TEXT PRIMARY KEY NOT NULL,
    -- start of the counting window
    window_start TIMESTAMP NOT NULL,
    failures INTEGER NOT NULL,
    -- no attempt is checked before this time (a progressive delay, or a lock)
    blocked_until TIMESTAMP
);
CREATE INDEX login_failures_window ON login_failures (window_start);

-- Token buckets per client IP over the forms that guess passwords or send mail.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    -- thousandths of a request
    tokens BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX rate_limits_updated ON rate_limits (updated_at);
