-- The digest of the client address that started an interaction, so that the pending
-- interactions one address may hold can be counted (and bounded) before another is stored.
ALTER TABLE oidc_interactions ADD COLUMN client_ip_hash TEXT;
CREATE INDEX oidc_interactions__client_ip ON oidc_interactions (tenant_id, client_ip_hash, expires_at);
