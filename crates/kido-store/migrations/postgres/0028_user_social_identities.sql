-- One row per social identity linked to a user: the provider account (connector target and
-- the provider's user id) belongs to at most one user of a tenant, enforced by the unique
-- index, and is found by that pair at sign-in. `users.identities` keeps the details Logto
-- shows; kido-core changes both in one transaction (`Users::modify`).

CREATE TABLE user_social_identities (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    target TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, target),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX user_social_identities__identity ON user_social_identities (tenant_id, target, identity_id);

INSERT INTO user_social_identities (tenant_id, user_id, target, identity_id)
SELECT u.tenant_id, u.id, j.key, j.value ->> 'userId'
FROM users u, jsonb_each(u.identities) j
WHERE jsonb_typeof(j.value -> 'userId') = 'string';
