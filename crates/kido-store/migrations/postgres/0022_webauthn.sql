-- WebAuthn credentials (passkeys) bound as second factors: the credential id an authenticator
-- names in every assertion, unique per tenant (one passkey is never two users'), so an
-- assertion finds its row by one index lookup. The public key, transports and user agent stay
-- in `details`; `last_step` holds the signature counter last accepted.

ALTER TABLE user_mfa_verifications ADD COLUMN credential_id TEXT;
CREATE UNIQUE INDEX user_mfa_verifications__webauthn_credential ON user_mfa_verifications (tenant_id, credential_id) WHERE credential_id IS NOT NULL;
