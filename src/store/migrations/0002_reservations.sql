-- Reservations against counter limits (spend caps): room held before a job whose cost is known only
-- after it. A row past expires_at no longer counts (its instance died before settling).
CREATE TABLE store_reservations (
  ns text NOT NULL,
  key text NOT NULL,
  holder text NOT NULL,
  amount numeric(78, 0) NOT NULL CHECK (amount >= 0),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (ns, key, holder)
);
