-- Mail waiting to go out. A message is written here in the same transaction as the action
-- that caused it, and sent later by the background sender: an SMTP outage or a crash delays
-- mail, never loses it, and no page waits on SMTP.
CREATE TABLE mail_outbox (
    -- random UUID; also the .eml file name and the Message-ID, so a retry keeps its identity
    id TEXT PRIMARY KEY NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- failed sends so far; the next one waits 2^attempts times the retry base (capped)
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- a sender's lease: no other sender (replica) takes the row until it has passed, and a
    -- sender that crashed mid-send lets it pass, so the message is retried
    claimed_until TIMESTAMP,
    sent_at TIMESTAMP,
    -- set when the message can never be sent (e.g. an address SMTP cannot carry) or has
    -- failed for longer than the queue lifetime
    failed_at TIMESTAMP,
    last_error TEXT
);
-- What the sender polls for: only messages still waiting.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
