-- Backup codes become readable by their owner (`GET /api/my-account/mfa-verifications/backup-codes`):
-- a set's codes are sealed together on its verification row (`sealed_secret`, like a TOTP
-- secret), and its code rows keep only their position in the set and when they were used.
-- Sets bound before this migration keep their salted digests (`code_digest`): they still
-- verify, but cannot be shown again.
ALTER TABLE user_backup_codes ADD COLUMN position BIGINT;
UPDATE user_backup_codes b SET position = n.position
FROM (SELECT tenant_id, verification_id, code_digest,
             ROW_NUMBER() OVER (PARTITION BY tenant_id, verification_id ORDER BY code_digest) - 1 AS position
      FROM user_backup_codes) n
WHERE b.tenant_id = n.tenant_id AND b.verification_id = n.verification_id AND b.code_digest = n.code_digest;
ALTER TABLE user_backup_codes ALTER COLUMN position SET NOT NULL;
ALTER TABLE user_backup_codes DROP CONSTRAINT user_backup_codes_pkey;
ALTER TABLE user_backup_codes ALTER COLUMN code_digest DROP NOT NULL;
ALTER TABLE user_backup_codes ADD PRIMARY KEY (tenant_id, verification_id, position);
