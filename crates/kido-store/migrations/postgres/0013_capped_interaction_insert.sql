-- A pending sign-in is stored under its client address's cap by one statement
-- (`SELECT insert_capped_interaction(…)`), without a transaction around it: the function
-- takes the per-address advisory lock, held until the calling statement's transaction ends,
-- and then counts on a snapshot of its own (a VOLATILE function's queries each take a fresh
-- one), which sees every interaction an earlier holder of the lock stored. So a parallel
-- burst from one address cannot overshoot. Rows without an address are not capped.
CREATE FUNCTION insert_capped_interaction(
    p_tenant_id TEXT, p_id TEXT, p_cookie_hash TEXT, p_client_id TEXT, p_params JSONB, p_state JSONB,
    p_expires_at BIGINT, p_created_at BIGINT, p_client_ip_hash TEXT, p_max BIGINT
) RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF p_client_ip_hash IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('oidc_interactions:' || p_client_ip_hash));
        IF (SELECT COUNT(*) FROM oidc_interactions
              WHERE tenant_id = p_tenant_id AND client_ip_hash = p_client_ip_hash
                AND expires_at > p_created_at) >= p_max THEN
            RETURN FALSE;
        END IF;
    END IF;
    INSERT INTO oidc_interactions
        (tenant_id, id, cookie_hash, client_id, params, state, expires_at, created_at, client_ip_hash)
    VALUES (p_tenant_id, p_id, p_cookie_hash, p_client_id, p_params, p_state, p_expires_at, p_created_at,
            p_client_ip_hash);
    RETURN TRUE;
END $$;
