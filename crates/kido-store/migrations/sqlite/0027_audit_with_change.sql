-- Audit entries ride on the statement of the change they describe: an interaction's save
-- (`oidc::update_interaction_state*`) and the spending of an authorization code
-- (`oidc::consume_token`). The statement sets the row's `audit` column to a JSON array of
-- entries ({id, key, userId, applicationId, payload, createdAt}; the row's tenant is
-- theirs) and a trigger writes them to `logs` and clears the column: one round trip does
-- both, and an entry exists exactly when its change does. A statement without entries
-- sets NULL and the trigger does nothing. Recursive triggers are off (SQLite's default),
-- so the clearing UPDATE fires nothing.
ALTER TABLE oidc_interactions ADD COLUMN audit TEXT;
ALTER TABLE oidc_tokens ADD COLUMN audit TEXT;

CREATE TRIGGER oidc_interactions_audit AFTER UPDATE OF audit ON oidc_interactions
WHEN NEW.audit IS NOT NULL
BEGIN
    INSERT INTO logs (tenant_id, id, key, user_id, application_id, payload, created_at)
    SELECT NEW.tenant_id, json_extract(e.value, '$.id'), json_extract(e.value, '$.key'),
           json_extract(e.value, '$.userId'), json_extract(e.value, '$.applicationId'),
           json(json_extract(e.value, '$.payload')), json_extract(e.value, '$.createdAt')
    FROM json_each(NEW.audit) AS e;
    UPDATE oidc_interactions SET audit = NULL WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER oidc_tokens_audit AFTER UPDATE OF audit ON oidc_tokens
WHEN NEW.audit IS NOT NULL
BEGIN
    INSERT INTO logs (tenant_id, id, key, user_id, application_id, payload, created_at)
    SELECT NEW.tenant_id, json_extract(e.value, '$.id'), json_extract(e.value, '$.key'),
           json_extract(e.value, '$.userId'), json_extract(e.value, '$.applicationId'),
           json(json_extract(e.value, '$.payload')), json_extract(e.value, '$.createdAt')
    FROM json_each(NEW.audit) AS e;
    UPDATE oidc_tokens SET audit = NULL WHERE rowid = NEW.rowid;
END;
