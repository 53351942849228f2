-- The console (console/): one-time enrolment invites and the passkeys people enrolled from them.
-- An invite stores only the sha256 of its secret; `used_at` makes it one-time (set once, atomically).
CREATE TABLE IF NOT EXISTS console_invites (
  invite_id   text PRIMARY KEY,
  secret_hash text NOT NULL UNIQUE,
  principal   text NOT NULL,
  role        text NOT NULL CHECK (role IN ('approver', 'operator')),
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

-- A passkey: its WebAuthn credential id, public key (COSE, for sign-in) and the registrar's grant
-- (the signed statement every session and `audit verify` trust it by).
CREATE TABLE IF NOT EXISTS console_credentials (
  credential_id text PRIMARY KEY,
  key_id        text NOT NULL UNIQUE,
  principal     text NOT NULL,
  role          text NOT NULL,
  invite_id     text NOT NULL REFERENCES console_invites (invite_id),
  public_key    bytea NOT NULL,
  counter       bigint NOT NULL DEFAULT 0,
  grant_envelope jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
