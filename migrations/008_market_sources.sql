-- What each market source last published per symbol, so that a poll publishes only ticks newer than
-- that: quotes that did not change between polls (a closed market, a quiet coin) and the bars a
-- chart repeats every minute are not sent again, across polls and worker restarts alike.
CREATE TABLE market_poll_state (
  source         text          NOT NULL,
  symbol         text          NOT NULL,
  last_event_ts  timestamptz   NOT NULL,
  last_price     numeric(20,8) NOT NULL CHECK (last_price > 0),
  updated_at     timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (source, symbol)
);

COMMENT ON TABLE market_poll_state IS 'per market source and symbol: the event time and price of the last tick published to Kafka';
