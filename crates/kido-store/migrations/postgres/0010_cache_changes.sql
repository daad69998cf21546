-- Cache invalidation on commit. Every change to a table that an in-process cache reads (the
-- token endpoint's clients and grants, the sign-in experience, signing keys) is noted by a
-- trigger, so no write path can forget to invalidate. kido-core's caches.rs maps each table
-- to the caches it feeds; the store reads the notes once, just before COMMIT.
--
-- PostgreSQL: the note is (1) a NOTIFY on channel `kido_cache` with payload
-- `<tenant>:<table>`, delivered to every node's listener only when the transaction commits,
-- and (2) the same entry appended to the transaction-local setting `kido.changes`, which the
-- writing node reads before COMMIT to invalidate its own caches synchronously.
CREATE FUNCTION note_cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry TEXT;
    noted TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        entry := OLD.tenant_id || ':' || TG_TABLE_NAME;
    ELSE
        entry := NEW.tenant_id || ':' || TG_TABLE_NAME;
    END IF;
    noted := coalesce(current_setting('kido.changes', true), '');
    IF position(',' || entry || ',' IN ',' || noted) = 0 THEN
        PERFORM set_config('kido.changes', noted || entry || ',', true);
        PERFORM pg_notify('kido_cache', entry);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER applications__note_change AFTER INSERT OR UPDATE OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER application_secrets__note_change AFTER INSERT OR UPDATE OR DELETE ON application_secrets
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER resources__note_change AFTER INSERT OR UPDATE OR DELETE ON resources
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER scopes__note_change AFTER INSERT OR UPDATE OR DELETE ON scopes
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER roles__note_change AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER roles_scopes__note_change AFTER INSERT OR UPDATE OR DELETE ON roles_scopes
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER applications_roles__note_change AFTER INSERT OR UPDATE OR DELETE ON applications_roles
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER organizations__note_change AFTER INSERT OR UPDATE OR DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER organization_roles__note_change AFTER INSERT OR UPDATE OR DELETE ON organization_roles
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER organization_scopes__note_change AFTER INSERT OR UPDATE OR DELETE ON organization_scopes
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER organization_role_scope_relations__note_change AFTER INSERT OR UPDATE OR DELETE ON organization_role_scope_relations
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER organization_role_resource_scope_relations__note_change AFTER INSERT OR UPDATE OR DELETE ON organization_role_resource_scope_relations
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER organization_application_relations__note_change AFTER INSERT OR UPDATE OR DELETE ON organization_application_relations
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER organization_role_application_relations__note_change AFTER INSERT OR UPDATE OR DELETE ON organization_role_application_relations
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER sign_in_experiences__note_change AFTER INSERT OR UPDATE OR DELETE ON sign_in_experiences
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
CREATE TRIGGER signing_keys__note_change AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION note_cache_change();
