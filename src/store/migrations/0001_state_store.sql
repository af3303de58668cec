-- The state store's primitives (src/store/stateStore.ts, docs/store.md). Never edit an applied
-- migration: put changes in a new file with the next number.

-- Namespaced key-value with compare-and-set: a write names the version it read.
CREATE TABLE store_kv (
  ns text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ns, key)
);

-- One row per counter and period: the current window and its total (wei fits NUMERIC(78,0)).
CREATE TABLE store_counters (
  ns text NOT NULL,
  key text NOT NULL,
  period text NOT NULL CHECK (period IN ('minute', 'hour', 'day', 'month')),
  window_start timestamptz NOT NULL,
  total numeric(78, 0) NOT NULL CHECK (total >= 0),
  PRIMARY KEY (ns, key, period)
);

-- Slots of concurrent things; a slot past expires_at is free again.
CREATE TABLE store_gauge_slots (
  ns text NOT NULL,
  key text NOT NULL,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (ns, key, holder)
);

-- Append-only records (usage): amounts are exact integers kept as decimal strings in JSON.
CREATE TABLE store_records (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ns text NOT NULL,
  subject text NOT NULL,
  at timestamptz NOT NULL,
  amounts jsonb NOT NULL,
  tags jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX store_records_by_time ON store_records (ns, at, id);
CREATE INDEX store_records_by_subject ON store_records (ns, subject, at, id);

CREATE FUNCTION store_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'store_records is append-only';
END;
$$;
CREATE TRIGGER store_records_append_only BEFORE UPDATE OR DELETE ON store_records
  FOR EACH ROW EXECUTE FUNCTION store_records_append_only();
