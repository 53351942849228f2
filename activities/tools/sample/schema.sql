-- The sample "production" database the sample tool catalog acts on. Idempotent (IF NOT EXISTS):
-- `seedSampleProduction(pool)` applies it, then inserts the demo data once.

CREATE TABLE IF NOT EXISTS customers (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  email       text NOT NULL,
  currency    text NOT NULL DEFAULT 'USD',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS billing_records (
  id            bigserial PRIMARY KEY,
  customer_id   uuid NOT NULL REFERENCES customers (id),
  amount_cents  bigint NOT NULL,
  currency      text NOT NULL,
  description   text NOT NULL,
  billed_at     timestamptz NOT NULL,
  -- Test data (load tests, QA runs) is tagged so it can be cleaned up without touching real invoices.
  is_test       boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS billing_records_customer_billed ON billing_records (customer_id, billed_at);
CREATE INDEX IF NOT EXISTS billing_records_test_billed ON billing_records (is_test, billed_at);

CREATE TABLE IF NOT EXISTS services (
  name           text PRIMARY KEY,
  replicas       integer NOT NULL CHECK (replicas >= 0),
  status         text NOT NULL DEFAULT 'running',
  restart_count  integer NOT NULL DEFAULT 0,
  restarted_at   timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS service_env (
  service     text NOT NULL REFERENCES services (name),
  key         text NOT NULL,
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service, key)
);

CREATE TABLE IF NOT EXISTS volumes (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  size_gb     integer NOT NULL,
  status      text NOT NULL CHECK (status IN ('available', 'in-use')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS volume_mounts (
  volume_id   text NOT NULL REFERENCES volumes (id) ON DELETE CASCADE,
  service     text NOT NULL REFERENCES services (name),
  mount_path  text NOT NULL,
  PRIMARY KEY (volume_id, service)
);

-- Stand-in for a volume's data: deleting a volume deletes its blocks.
CREATE TABLE IF NOT EXISTS volume_blocks (
  volume_id   text NOT NULL REFERENCES volumes (id) ON DELETE CASCADE,
  block_no    integer NOT NULL,
  checksum    text NOT NULL,
  PRIMARY KEY (volume_id, block_no)
);

CREATE TABLE IF NOT EXISTS secrets (
  service          text NOT NULL REFERENCES services (name),
  name             text NOT NULL,
  current_version  integer NOT NULL,
  rotated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service, name)
);

CREATE TABLE IF NOT EXISTS secret_versions (
  service     text NOT NULL,
  name        text NOT NULL,
  version     integer NOT NULL,
  material    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service, name, version),
  FOREIGN KEY (service, name) REFERENCES secrets (service, name)
);

CREATE TABLE IF NOT EXISTS staging_config (
  key         text PRIMARY KEY,
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row once the demo data is in: makes the seed idempotent.
CREATE TABLE IF NOT EXISTS sample_seed (
  id          integer PRIMARY KEY CHECK (id = 1),
  seeded_at   timestamptz NOT NULL,
  test_month  text NOT NULL
);
