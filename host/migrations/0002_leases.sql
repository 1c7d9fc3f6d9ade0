-- Leases: which host does a tenant's background work (webhook delivery)
-- when several hosts share the database. A lease is held until
-- `expires_at`; its holder renews it, anyone takes it once it expired.
CREATE TABLE IF NOT EXISTS premia_leases (
    tenant     text        NOT NULL,
    name       text        NOT NULL,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, name)
);
