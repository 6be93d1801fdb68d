-- The attempt ledger of 018 counted, in a table of its own, attempts that Temporal counts already:
-- each attempt now reads what the attempts before it left in their heartbeats (activities/attempts.ts,
-- docs/delivery-guarantees.md "Attempts that end without an outcome"). Safe to run twice.
DROP TABLE IF EXISTS unit_attempts;
