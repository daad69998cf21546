-- The user's answer to the client's consent prompt after a sign-in, kept beside the state:
-- one conditional UPDATE records it without reading the interaction first.
ALTER TABLE oidc_interactions ADD COLUMN consent JSONB;
