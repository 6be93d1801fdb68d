// Reading forecasts back: the latest fit per symbol, source, model and candle interval, with every
// point of its horizon. Shared by `etl forecast show` (loader pool) and the dashboard (reader pool).
import type pg from 'pg';
import type { ModelName } from './series';

export interface ForecastPointRow {
  t: string;
  step: number;
  predicted: number;
  lower: number;
  upper: number;
}
export interface LatestForecast {
  symbol: string;
  source: string;
  model: ModelName;
  candle_interval: string;
  train_from: string;
  train_to: string;
  fitted_at: string;
  run_id: string;
  train_points: number;
  holdout_mae: number | null;
  holdout_rmse: number | null;
  holdout_points: number;
  params: Record<string, number>;
  currency: string | null;
  /** Ascending by time; the last one is the horizon's end. */
  points: ForecastPointRow[];
}

export interface ForecastFilter {
  symbol?: string;
  source?: string;
  interval?: string;
}

// The latest fit is the one with the latest last training candle; its rows all share train_to.
const LATEST_SQL = `
SELECT l.symbol, l.source, l.model, l.candle_interval,
       to_char(l.train_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS train_from,
       to_char(l.train_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS train_to,
       to_char(l.fitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS fitted_at,
       l.run_id, l.train_points, l.holdout_mae, l.holdout_rmse, l.holdout_points, l.params, l.currency, p.points
FROM (
  SELECT DISTINCT ON (symbol, source, model, candle_interval) *
  FROM price_forecasts
  WHERE ($1::text IS NULL OR symbol = $1) AND ($2::text IS NULL OR source = $2) AND ($3::text IS NULL OR candle_interval = $3)
  ORDER BY symbol, source, model, candle_interval, train_to DESC
) l
CROSS JOIN LATERAL (
  SELECT json_agg(json_build_object(
           't', to_char(f.horizon_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'step', f.horizon_step,
           'predicted', f.predicted, 'lower', f.lower, 'upper', f.upper) ORDER BY f.horizon_ts) AS points
  FROM price_forecasts f
  WHERE f.symbol = l.symbol AND f.source = l.source AND f.model = l.model AND f.candle_interval = l.candle_interval AND f.train_to = l.train_to
) p
ORDER BY l.symbol, l.source, l.candle_interval, l.model`;

export async function latestForecasts(pool: pg.Pool, f: ForecastFilter = {}): Promise<LatestForecast[]> {
  const { rows } = await pool.query<LatestForecast>(LATEST_SQL, [f.symbol ?? null, f.source ?? null, f.interval ?? null]);
  return rows;
}
