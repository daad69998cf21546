-- Audit entries ride on the statement that saves the interaction they describe
-- (`oidc::update_interaction_state*`): the save sets `audit` to a JSON array of entries
-- ({id, key, userId, applicationId, payload, createdAt}) and this trigger writes them to
-- `logs` and clears the column, so one round trip does both and an entry exists exactly
-- when its save does. A save without entries sets NULL and the trigger does nothing.
ALTER TABLE oidc_interactions ADD COLUMN audit TEXT;

CREATE TRIGGER oidc_interactions_audit AFTER UPDATE OF audit ON oidc_interactions
WHEN NEW.audit IS NOT NULL
BEGIN
    INSERT INTO logs (tenant_id, id, key, user_id, application_id, payload, created_at)
    SELECT NEW.tenant_id, json_extract(e.value, '$.id'), json_extract(e.value, '$.key'),
           json_extract(e.value, '$.userId'), json_extract(e.value, '$.applicationId'),
           json(json_extract(e.value, '$.payload')), json_extract(e.value, '$.createdAt')
    FROM json_each(NEW.audit) AS e;
    -- Recursive triggers are off (SQLite's default), and NULL would not match anyway.
    UPDATE oidc_interactions SET audit = NULL WHERE rowid = NEW.rowid;
END;
