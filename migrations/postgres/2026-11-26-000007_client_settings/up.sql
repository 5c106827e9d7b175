-- Per-client settings an administrator sets in the console. NULL lifetimes and an empty
-- scope list mean "inherit": ACCESS_TOKEN_TTL / REFRESH_TOKEN_TTL, every supported scope.
ALTER TABLE clients ADD COLUMN allowed_scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN access_token_ttl BIGINT;
ALTER TABLE clients ADD COLUMN refresh_token_ttl BIGINT;
