-- Premia schema, version 1: the event log and what the store keeps with it.
-- Applied once by `PgStore::open` (recorded in premia_schema_migrations);
-- never edit a shipped migration, add the next numbered file instead.

-- One row per tenant: the last sequence of its log. Appenders lock it
-- (SELECT ... FOR UPDATE, tenants in name order), which serialises the
-- appends of one tenant across every Premia host, so sequences are
-- gap-free and commit in order.
CREATE TABLE premia_tenants (
    tenant        text   PRIMARY KEY,
    last_sequence bigint NOT NULL DEFAULT 0 CHECK (last_sequence >= 0)
);

-- The event log: append-only (see the trigger below).
CREATE TABLE premia_events (
    tenant          text        NOT NULL REFERENCES premia_tenants (tenant),
    sequence        bigint      NOT NULL CHECK (sequence > 0),
    stream          text        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version > 0),
    kind            text        NOT NULL,
    payload         jsonb       NOT NULL,
    command_id      text        NOT NULL,
    actor           text        NOT NULL,
    issued_at       timestamptz NOT NULL,
    idempotency_key text,
    format_version  smallint    NOT NULL,
    PRIMARY KEY (tenant, sequence),
    UNIQUE (tenant, stream, stream_version)
);

CREATE FUNCTION premia_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'premia_events is append-only: % refused', TG_OP;
END
$$;

CREATE TRIGGER premia_events_append_only
    BEFORE UPDATE OR DELETE ON premia_events
    FOR EACH ROW EXECUTE FUNCTION premia_refuse_change();

-- Each stream's version (its number of events), for optimistic concurrency.
CREATE TABLE premia_streams (
    tenant  text   NOT NULL,
    stream  text   NOT NULL,
    version bigint NOT NULL CHECK (version > 0),
    PRIMARY KEY (tenant, stream)
);

-- Idempotency keys: unique per tenant in the database itself.
CREATE TABLE premia_idempotency (
    tenant         text     NOT NULL,
    key            text     NOT NULL,
    request_hash   text     NOT NULL,
    response       jsonb    NOT NULL,
    first_sequence bigint   NOT NULL,
    last_sequence  bigint   NOT NULL,
    format_version smallint NOT NULL,
    PRIMARY KEY (tenant, key)
);

-- Durable blobs: plugin components, rate tables, API key hashes.
CREATE TABLE premia_blobs (
    tenant    text  NOT NULL,
    namespace text  NOT NULL,
    key       text  NOT NULL,
    bytes     bytea NOT NULL,
    PRIMARY KEY (tenant, namespace, key)
);

-- Projection: the turnover of every ledger account (per subledger and
-- currency), updated from the journal entries in the same transaction as
-- the events. Money is numeric, never floating point. For each tenant and
-- currency, sum(debits) = sum(credits).
CREATE TABLE premia_ledger_balances (
    tenant    text    NOT NULL,
    account   text    NOT NULL,
    currency  text    NOT NULL,
    subledger text    NOT NULL DEFAULT '',
    debits    numeric NOT NULL DEFAULT 0,
    credits   numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, account, currency, subledger)
);
