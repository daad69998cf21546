-- Passkey sign-in: the challenge of the anonymous, discoverable-credential ceremony
-- (`POST /api/experience/preflight/sign-in-passkey/authentication`), one per interaction and
-- overwritten by the next. Kept beside the state, not in it, so `PUT /api/experience` (which
-- replaces the state without reading it) does not drop a ceremony begun before it; spent by
-- one conditional statement, so of two answers to one challenge exactly one is checked.

ALTER TABLE oidc_interactions ADD COLUMN passkey_challenge TEXT;
ALTER TABLE oidc_interactions ADD COLUMN passkey_challenge_expires_at INTEGER;
