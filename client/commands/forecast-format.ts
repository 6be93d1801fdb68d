// How forecast results read in a terminal: one line per symbol, source and model.
import type { ForecastResult } from '../../workflows';
import type { LatestForecast } from '../../forecast/store';
import { fmt, formatTable } from '../output';

/** Seven significant digits: 187.2345, 64012.37, 0.00001234 all stay readable. */
export function price(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  return Number(v.toPrecision(7)).toString();
}

const minute = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')}Z`;

export function formatForecastResult(r: ForecastResult): string {
  const rows = r.outcomes.flatMap((o): string[][] =>
    o.status === 'skipped'
      ? [[o.symbol, o.source ?? '-', 'skipped', '-', '-', '-', '-', '-', '-', o.reason]]
      : o.models.map((m) => [
          o.symbol,
          o.source,
          m.model,
          minute(o.trainTo),
          minute(m.horizonTs),
          price(m.predicted),
          `${price(m.lower)} .. ${price(m.upper)}`,
          price(m.holdoutMae),
          price(m.holdoutRmse),
          `${fmt(o.trainPoints)} candles`,
        ]),
  );
  const head =
    `forecast ${r.runId}: ${fmt(r.symbolsForecast)} symbol(s) forecast, ${fmt(r.symbolsSkipped)} skipped; ` +
    `${fmt(r.rowsWritten)} rows written, ${fmt(r.rowsUnchanged)} unchanged (${r.interval} candles, ${fmt(r.horizonSteps)} steps ahead, fitted_at ${r.fittedAt})`;
  return [
    head,
    '',
    formatTable(
      ['symbol', 'source', 'model', 'last candle', 'horizon', 'predicted', '95% interval', 'holdout MAE', 'holdout RMSE', 'note'],
      rows,
    ),
  ].join('\n');
}

export function formatLatest(rows: readonly LatestForecast[]): string {
  return formatTable(
    [
      'symbol',
      'source',
      'model',
      'interval',
      'last candle',
      'horizon',
      'predicted',
      '95% interval',
      'holdout MAE',
      'holdout RMSE',
      'fitted_at',
    ],
    rows.map((f) => {
      const end = f.points[f.points.length - 1]!;
      return [
        f.symbol,
        f.source,
        f.model,
        f.candle_interval,
        minute(f.train_to),
        minute(end.t),
        price(end.predicted),
        `${price(end.lower)} .. ${price(end.upper)}`,
        price(f.holdout_mae),
        price(f.holdout_rmse),
        f.fitted_at,
      ];
    }),
  );
}
