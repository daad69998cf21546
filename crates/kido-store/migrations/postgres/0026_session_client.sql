-- The application a browser session was signed in through (Logto's session `clientId`), so
-- a user's session list can name it. Informational: no foreign key, an application deleted
-- later leaves its id here; sessions from before this column read NULL.

ALTER TABLE oidc_sessions ADD COLUMN client_id TEXT;
