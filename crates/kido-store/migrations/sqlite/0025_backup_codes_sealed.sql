-- Backup codes become readable by their owner (`GET /api/my-account/mfa-verifications/backup-codes`):
-- a set's codes are sealed together on its verification row (`sealed_secret`, like a TOTP
-- secret), and its code rows keep only their position in the set and when they were used.
-- Sets bound before this migration keep their salted digests (`code_digest`): they still
-- verify, but cannot be shown again.
CREATE TABLE user_backup_codes_positioned (
    tenant_id TEXT NOT NULL,
    verification_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    code_digest TEXT,
    used_at INTEGER,
    PRIMARY KEY (tenant_id, verification_id, position),
    FOREIGN KEY (tenant_id, verification_id) REFERENCES user_mfa_verifications (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO user_backup_codes_positioned (tenant_id, verification_id, position, code_digest, used_at)
SELECT tenant_id, verification_id,
       ROW_NUMBER() OVER (PARTITION BY tenant_id, verification_id ORDER BY code_digest) - 1,
       code_digest, used_at
FROM user_backup_codes;
DROP TABLE user_backup_codes;
ALTER TABLE user_backup_codes_positioned RENAME TO user_backup_codes;
