-- Cache invalidation on commit. Every change to a table that an in-process cache reads (the
-- token endpoint's clients and grants, the sign-in experience, signing keys) is noted by a
-- trigger, so no write path can forget to invalidate. kido-core's caches.rs maps each table
-- to the caches it feeds; the store reads the notes once, just before COMMIT.
--
-- SQLite: writers are serialised (BEGIN IMMEDIATE), so the notes are rows of one table that
-- the committing transaction drains (DELETE … RETURNING) and that roll back with it.
CREATE TABLE pending_cache_changes (
    tenant_id TEXT NOT NULL,
    table_name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, table_name)
) WITHOUT ROWID;
CREATE TRIGGER applications__note_insert AFTER INSERT ON applications BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'applications');
END;
CREATE TRIGGER applications__note_update AFTER UPDATE ON applications BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'applications');
END;
CREATE TRIGGER applications__note_delete AFTER DELETE ON applications BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'applications');
END;
CREATE TRIGGER application_secrets__note_insert AFTER INSERT ON application_secrets BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'application_secrets');
END;
CREATE TRIGGER application_secrets__note_update AFTER UPDATE ON application_secrets BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'application_secrets');
END;
CREATE TRIGGER application_secrets__note_delete AFTER DELETE ON application_secrets BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'application_secrets');
END;
CREATE TRIGGER resources__note_insert AFTER INSERT ON resources BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'resources');
END;
CREATE TRIGGER resources__note_update AFTER UPDATE ON resources BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'resources');
END;
CREATE TRIGGER resources__note_delete AFTER DELETE ON resources BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'resources');
END;
CREATE TRIGGER scopes__note_insert AFTER INSERT ON scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'scopes');
END;
CREATE TRIGGER scopes__note_update AFTER UPDATE ON scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'scopes');
END;
CREATE TRIGGER scopes__note_delete AFTER DELETE ON scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'scopes');
END;
CREATE TRIGGER roles__note_insert AFTER INSERT ON roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'roles');
END;
CREATE TRIGGER roles__note_update AFTER UPDATE ON roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'roles');
END;
CREATE TRIGGER roles__note_delete AFTER DELETE ON roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'roles');
END;
CREATE TRIGGER roles_scopes__note_insert AFTER INSERT ON roles_scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'roles_scopes');
END;
CREATE TRIGGER roles_scopes__note_update AFTER UPDATE ON roles_scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'roles_scopes');
END;
CREATE TRIGGER roles_scopes__note_delete AFTER DELETE ON roles_scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'roles_scopes');
END;
CREATE TRIGGER applications_roles__note_insert AFTER INSERT ON applications_roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'applications_roles');
END;
CREATE TRIGGER applications_roles__note_update AFTER UPDATE ON applications_roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'applications_roles');
END;
CREATE TRIGGER applications_roles__note_delete AFTER DELETE ON applications_roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'applications_roles');
END;
CREATE TRIGGER organizations__note_insert AFTER INSERT ON organizations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organizations');
END;
CREATE TRIGGER organizations__note_update AFTER UPDATE ON organizations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organizations');
END;
CREATE TRIGGER organizations__note_delete AFTER DELETE ON organizations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'organizations');
END;
CREATE TRIGGER organization_roles__note_insert AFTER INSERT ON organization_roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_roles');
END;
CREATE TRIGGER organization_roles__note_update AFTER UPDATE ON organization_roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_roles');
END;
CREATE TRIGGER organization_roles__note_delete AFTER DELETE ON organization_roles BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'organization_roles');
END;
CREATE TRIGGER organization_scopes__note_insert AFTER INSERT ON organization_scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_scopes');
END;
CREATE TRIGGER organization_scopes__note_update AFTER UPDATE ON organization_scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_scopes');
END;
CREATE TRIGGER organization_scopes__note_delete AFTER DELETE ON organization_scopes BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'organization_scopes');
END;
CREATE TRIGGER organization_role_scope_relations__note_insert AFTER INSERT ON organization_role_scope_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_role_scope_relations');
END;
CREATE TRIGGER organization_role_scope_relations__note_update AFTER UPDATE ON organization_role_scope_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_role_scope_relations');
END;
CREATE TRIGGER organization_role_scope_relations__note_delete AFTER DELETE ON organization_role_scope_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'organization_role_scope_relations');
END;
CREATE TRIGGER organization_role_resource_scope_relations__note_insert AFTER INSERT ON organization_role_resource_scope_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_role_resource_scope_relations');
END;
CREATE TRIGGER organization_role_resource_scope_relations__note_update AFTER UPDATE ON organization_role_resource_scope_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_role_resource_scope_relations');
END;
CREATE TRIGGER organization_role_resource_scope_relations__note_delete AFTER DELETE ON organization_role_resource_scope_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'organization_role_resource_scope_relations');
END;
CREATE TRIGGER organization_application_relations__note_insert AFTER INSERT ON organization_application_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_application_relations');
END;
CREATE TRIGGER organization_application_relations__note_update AFTER UPDATE ON organization_application_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_application_relations');
END;
CREATE TRIGGER organization_application_relations__note_delete AFTER DELETE ON organization_application_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'organization_application_relations');
END;
CREATE TRIGGER organization_role_application_relations__note_insert AFTER INSERT ON organization_role_application_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_role_application_relations');
END;
CREATE TRIGGER organization_role_application_relations__note_update AFTER UPDATE ON organization_role_application_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'organization_role_application_relations');
END;
CREATE TRIGGER organization_role_application_relations__note_delete AFTER DELETE ON organization_role_application_relations BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'organization_role_application_relations');
END;
CREATE TRIGGER sign_in_experiences__note_insert AFTER INSERT ON sign_in_experiences BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'sign_in_experiences');
END;
CREATE TRIGGER sign_in_experiences__note_update AFTER UPDATE ON sign_in_experiences BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'sign_in_experiences');
END;
CREATE TRIGGER sign_in_experiences__note_delete AFTER DELETE ON sign_in_experiences BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'sign_in_experiences');
END;
CREATE TRIGGER signing_keys__note_insert AFTER INSERT ON signing_keys BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'signing_keys');
END;
CREATE TRIGGER signing_keys__note_update AFTER UPDATE ON signing_keys BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (NEW.tenant_id, 'signing_keys');
END;
CREATE TRIGGER signing_keys__note_delete AFTER DELETE ON signing_keys BEGIN
    INSERT OR IGNORE INTO pending_cache_changes VALUES (OLD.tenant_id, 'signing_keys');
END;
