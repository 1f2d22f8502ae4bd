-- Console sessions of staff signed in with OpenID Connect (api/session.ts, docs/security.md
-- "Signing in"). The browser holds a random session id in the `tongban_session` cookie; the
-- database holds only its SHA-256, so a copy of this table opens no session. Each row keeps the
-- claims mapped at sign-in (a session does not ask the identity provider again), the CSRF token
-- the console echoes in `x-csrf-token`, and the id token for the provider's RP-initiated logout.
-- A session ends at `expires_at` (TOKEN_MAX_AGE_SECONDS after sign-in) or when unused for
-- SESSION_IDLE_TIMEOUT_SECONDS; signing out deletes the row.
CREATE TABLE staff_sessions (
  id_hash bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
  sub text NOT NULL,
  name text,
  role text NOT NULL,
  region text NOT NULL,
  issuer text NOT NULL,
  csrf_token text NOT NULL,
  id_token text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

-- The sweep of ended sessions at each sign-in.
CREATE INDEX staff_sessions_expires_at ON staff_sessions (expires_at);
CREATE INDEX staff_sessions_last_seen_at ON staff_sessions (last_seen_at);
