-- Price forecasts (`etl forecast run`, forecastWorkflow): per symbol, source and model, one row per
-- future candle of the horizon. A fit is keyed by its last training candle (train_to): running the
-- same fit on the same candles again finds its rows and changes nothing; a fit of the same
-- train_to from other candles (late ticks, other options) replaces them as a whole.
CREATE TABLE price_forecasts (
  symbol          text             NOT NULL,
  source          text             NOT NULL,
  model           text             NOT NULL CHECK (model IN ('linear_trend', 'holt_linear')),
  candle_interval text             NOT NULL CHECK (candle_interval IN ('1m', '1h', '1d')),
  train_to        timestamptz      NOT NULL,
  horizon_ts      timestamptz      NOT NULL,
  horizon_step    integer          NOT NULL CHECK (horizon_step > 0),
  predicted       double precision NOT NULL,
  lower           double precision NOT NULL,
  upper           double precision NOT NULL,
  holdout_mae     double precision CHECK (holdout_mae >= 0),
  holdout_rmse    double precision CHECK (holdout_rmse >= 0),
  holdout_points  integer          NOT NULL CHECK (holdout_points >= 0),
  train_points    integer          NOT NULL CHECK (train_points > 0),
  train_from      timestamptz      NOT NULL,
  params          jsonb            NOT NULL,
  input_digest    text             NOT NULL,
  currency        text,
  fitted_at       timestamptz      NOT NULL,
  run_id          text             NOT NULL,
  PRIMARY KEY (symbol, source, model, candle_interval, train_to, horizon_ts),
  CHECK (lower <= predicted AND predicted <= upper),
  CHECK (train_from <= train_to AND train_to < horizon_ts)
);
CREATE INDEX price_forecasts_fitted_at ON price_forecasts (fitted_at);

COMMENT ON TABLE price_forecasts IS 'Baseline price forecasts per symbol, source and model (not investment advice): one row per future candle, 95 % prediction interval, holdout errors of the fit';
COMMENT ON COLUMN price_forecasts.symbol IS 'Instrument, as in ticks_flat and candles_1m';
COMMENT ON COLUMN price_forecasts.source IS 'Tick source the candles came from';
COMMENT ON COLUMN price_forecasts.model IS 'linear_trend (least squares of close on time) or holt_linear (Holt''s exponential smoothing, additive trend)';
COMMENT ON COLUMN price_forecasts.candle_interval IS 'Candles the model was fitted on: 1m (candles_1m), 1h (candles_1h) or 1d (candles_1d)';
COMMENT ON COLUMN price_forecasts.train_to IS 'Start of the last candle the model was fitted on (UTC)';
COMMENT ON COLUMN price_forecasts.horizon_ts IS 'Start of the future candle this row predicts (UTC)';
COMMENT ON COLUMN price_forecasts.horizon_step IS 'Candle intervals between train_to and horizon_ts';
COMMENT ON COLUMN price_forecasts.predicted IS 'Predicted close of the candle at horizon_ts, in currency';
COMMENT ON COLUMN price_forecasts.lower IS 'Lower bound of the 95 % prediction interval';
COMMENT ON COLUMN price_forecasts.upper IS 'Upper bound of the 95 % prediction interval';
COMMENT ON COLUMN price_forecasts.holdout_mae IS 'Mean absolute error on the holdout (the model fitted on the first part of the window, predicting the rest); NULL without a holdout';
COMMENT ON COLUMN price_forecasts.holdout_rmse IS 'Root mean squared error on the holdout; NULL without a holdout';
COMMENT ON COLUMN price_forecasts.holdout_points IS 'Candles in the holdout';
COMMENT ON COLUMN price_forecasts.train_points IS 'Candles the forward forecast was fitted on (the whole lookback window)';
COMMENT ON COLUMN price_forecasts.train_from IS 'Start of the first candle the model was fitted on (UTC)';
COMMENT ON COLUMN price_forecasts.params IS 'Fitted parameters (linear_trend: intercept, slope per step, residualSe…; holt_linear: alpha, beta, level, trend, sigma…)';
COMMENT ON COLUMN price_forecasts.input_digest IS 'SHA-256 of the candles, options and model version the fit was computed from';
COMMENT ON COLUMN price_forecasts.currency IS 'Currency of the prices';
COMMENT ON COLUMN price_forecasts.fitted_at IS 'When the run that wrote this row started (the workflow''s time)';
COMMENT ON COLUMN price_forecasts.run_id IS 'Workflow id of the run that wrote this row';
