-- What a user chose about their second factors (Logto's `logto_config`: `mfa.skipped` — the
-- user declined to bind one —, `mfa.skipMfaOnSignIn`, `mfa.enabled`, `passkeySignIn.skipped`).
ALTER TABLE users ADD COLUMN logto_config TEXT NOT NULL DEFAULT '{}';
