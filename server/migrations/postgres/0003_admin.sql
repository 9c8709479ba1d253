-- The admin pages: operators (people who sign in with a name and a password, stored as an
-- Argon2id hash) and sign-in sessions. A session's id is only ever stored as its SHA-256, so
-- a copy of the database does not let anyone sign in; its CSRF token is per session.

CREATE TABLE operators (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY,
    -- NULL: signed in with the admin token.
    operator TEXT REFERENCES operators (name) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    -- The messages the next page shows (JSON), set by a POST before it redirects.
    flash TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expires_at);
