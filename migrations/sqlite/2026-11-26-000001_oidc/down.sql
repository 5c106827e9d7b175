DROP TABLE revoked_tokens;
DROP TABLE refresh_tokens;
DROP TABLE authorization_codes;
DROP TABLE consents;
DROP TABLE sessions;
