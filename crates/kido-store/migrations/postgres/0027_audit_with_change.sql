-- Audit entries ride on the statement of the change they describe: an interaction's save
-- (`oidc::update_interaction_state*`) and the spending of an authorization code
-- (`oidc::consume_token`). The statement sets the row's `audit` column to a JSON array of
-- entries ({id, key, userId, applicationId, payload, createdAt}; the row's tenant is
-- theirs) and a trigger writes them to `logs` and clears the column: one round trip does
-- both, and an entry exists exactly when its change does. A statement without entries
-- sets NULL and the trigger does nothing.
ALTER TABLE oidc_interactions ADD COLUMN audit JSONB;
ALTER TABLE oidc_tokens ADD COLUMN audit JSONB;

CREATE FUNCTION write_audit_entries() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO logs (tenant_id, id, key, user_id, application_id, payload, created_at)
    SELECT NEW.tenant_id, e ->> 'id', e ->> 'key', e ->> 'userId', e ->> 'applicationId', e -> 'payload',
           (e ->> 'createdAt')::BIGINT
    FROM jsonb_array_elements(NEW.audit) AS e;
    NEW.audit := NULL;
    RETURN NEW;
END;
$$;

CREATE TRIGGER oidc_interactions_audit BEFORE UPDATE OF audit ON oidc_interactions
    FOR EACH ROW WHEN (NEW.audit IS NOT NULL) EXECUTE FUNCTION write_audit_entries();
CREATE TRIGGER oidc_tokens_audit BEFORE UPDATE OF audit ON oidc_tokens
    FOR EACH ROW WHEN (NEW.audit IS NOT NULL) EXECUTE FUNCTION write_audit_entries();
