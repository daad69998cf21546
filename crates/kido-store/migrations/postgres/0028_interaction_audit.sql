-- Audit entries ride on the statement that saves the interaction they describe
-- (`oidc::update_interaction_state*`): the save sets `audit` to a JSON array of entries
-- ({id, key, userId, applicationId, payload, createdAt}) and this trigger writes them to
-- `logs` and clears the column, so one round trip does both and an entry exists exactly
-- when its save does. A save without entries sets NULL and the trigger does nothing.
ALTER TABLE oidc_interactions ADD COLUMN audit JSONB;

CREATE FUNCTION oidc_interactions_audit() RETURNS TRIGGER LANGUAGE plpgsql AS $$
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
    FOR EACH ROW WHEN (NEW.audit IS NOT NULL) EXECUTE FUNCTION oidc_interactions_audit();
