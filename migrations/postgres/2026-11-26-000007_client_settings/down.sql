ALTER TABLE clients DROP COLUMN refresh_token_ttl;
ALTER TABLE clients DROP COLUMN access_token_ttl;
ALTER TABLE clients DROP COLUMN allowed_scopes;
