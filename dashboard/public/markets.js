// The markets page: pick a symbol (and source) and an interval; it shows the candles with the
// latest forecast over them, and how fresh every tick source is. The pick lives in the address
// bar; the server validates it like any request. Refreshes itself every few seconds.
import { getJson, showRefreshed } from './api.js';
import { count, utcTime } from './format.js';
import { createPriceChart, createVolumeChart, MODELS, price, updateMarketCharts } from './markets.chart.js';
import { cell, fillRows } from './table.js';

const POLL_MS = 10_000;
const $ = (id) => document.getElementById(id);
const pickForm = $('pick');
const priceChart = createPriceChart($('chart-price'));
const volumeChart = createVolumeChart($('chart-volume'));
const state = { pick: fromUrl(), running: false, queued: false, staleAfter: 300 };

function fromUrl() {
  const p = new URLSearchParams(location.search);
  return { symbol: p.get('symbol'), source: p.get('source'), interval: p.get('interval') ?? '1m', limit: p.get('limit') ?? '180' };
}

function toUrl(pick) {
  const p = new URLSearchParams();
  for (const key of ['symbol', 'source', 'interval', 'limit']) if (pick[key]) p.set(key, pick[key]);
  return `?${p}`;
}

function setValue(id, text, value, tone) {
  const el = $(id);
  el.textContent = text;
  el.dataset.value = value === null || value === undefined ? '' : String(value);
  el.classList.remove('good', 'bad', 'warn');
  if (tone) el.classList.add(tone);
}

/** "42 s", "5 min", "3 h", "2 d": how long ago, roughly. */
function age(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 3_600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

function fillSymbols(symbols) {
  const select = $('symbol');
  select.replaceChildren(...symbols.map((s) => new Option(`${s.symbol} · ${s.source}`, `${s.symbol}|${s.source}`)));
  if (state.pick.symbol && !state.pick.source) state.pick.source = symbols.find((s) => s.symbol === state.pick.symbol)?.source ?? null;
  const known = symbols.some((s) => s.symbol === state.pick.symbol && s.source === state.pick.source);
  // A shared address may name a pair with no candles (yet): keep it, the server says what is wrong.
  if (state.pick.symbol && !known)
    select.append(new Option(`${state.pick.symbol} · ${state.pick.source ?? '?'}`, `${state.pick.symbol}|${state.pick.source ?? ''}`));
  if (!state.pick.symbol && symbols.length) Object.assign(state.pick, { symbol: symbols[0].symbol, source: symbols[0].source });
  select.value = `${state.pick.symbol}|${state.pick.source ?? ''}`;
  $('interval').value = state.pick.interval;
  $('limit').value = state.pick.limit;
  fillRows(
    $('symbols'),
    symbols,
    (s) => [cell(s.symbol), cell(s.source), cell(price(s.last_close), 'num'), cell(utcTime(s.last_candle))],
    'No candles yet.',
  );
  [...$('symbols').tBodies[0].rows].forEach((tr, i) => {
    const s = symbols[i];
    if (!s) return;
    tr.classList.toggle('current', s.symbol === state.pick.symbol && s.source === state.pick.source);
    tr.addEventListener('click', () => choose({ symbol: s.symbol, source: s.source }));
  });
}

function renderKpis(candles, forecasts, symbolRow, checkedAt) {
  const last = candles[candles.length - 1];
  setValue('m-close', last ? price(last.close) : '–', last?.close);
  $('m-currency').textContent = symbolRow ? `${symbolRow.currency} · candle ${utcTime(last?.t)} UTC` : '';
  const first = candles[0];
  const change = first && last ? (last.close - first.open) / first.open : null;
  setValue(
    'm-change',
    change === null ? '–' : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(2)} %`,
    change,
    change === null ? null : change >= 0 ? 'good' : 'bad',
  );
  $('m-range').textContent = first ? `since ${utcTime(first.t)} UTC` : '';
  // Ages on the database's clock (checkedAt), like the freshness table's.
  const tickAge = symbolRow && checkedAt ? (Date.parse(checkedAt) - Date.parse(symbolRow.last_tick)) / 1000 : null;
  setValue(
    'm-age',
    tickAge === null ? '–' : `${age(tickAge)} ago`,
    tickAge,
    tickAge !== null && tickAge > state.staleAfter ? 'warn' : null,
  );
  $('m-last-tick').textContent = symbolRow ? `${utcTime(symbolRow.last_tick)} UTC` : '';
  // The model that did best on its holdout is the headline; the table has both.
  const ranked = [...forecasts].sort((a, b) => (a.holdout_rmse ?? Infinity) - (b.holdout_rmse ?? Infinity));
  const best = ranked[0];
  const end = best?.points[best.points.length - 1];
  setValue('m-forecast', end ? price(end.predicted) : '–', end?.predicted);
  $('m-forecast-hint').textContent = end
    ? `${MODELS[best.model]?.label ?? best.model} at ${utcTime(end.t)} UTC, 95 %: ${price(end.lower)} – ${price(end.upper)}`
    : 'no forecast yet: `etl forecast run`';
}

function renderForecasts(forecasts) {
  fillRows(
    $('forecast'),
    forecasts,
    (f) => {
      const end = f.points[f.points.length - 1];
      return [
        cell(MODELS[f.model]?.label ?? f.model),
        cell(utcTime(f.train_to)),
        cell(utcTime(end.t)),
        cell(price(end.predicted), 'num'),
        cell(`${price(end.lower)} – ${price(end.upper)}`, 'num'),
        cell(price(f.holdout_mae), 'num'),
        cell(price(f.holdout_rmse), 'num'),
        cell(count(f.train_points), 'num'),
        cell(utcTime(f.fitted_at)),
      ];
    },
    'No forecast for this symbol and interval yet: run `etl forecast run`.',
  );
  [...$('forecast').tBodies[0].rows].forEach((tr, i) => forecasts[i] && (tr.dataset.model = forecasts[i].model));
}

function renderFreshness(f) {
  fillRows(
    $('freshness'),
    f.sources,
    (s) => [
      cell(s.source),
      cell(count(s.symbols), 'num'),
      cell(utcTime(s.last_tick)),
      cell(age(s.age_seconds), 'num'),
      cell(count(s.ticks_last_hour), 'num'),
      cell(s.stale ? 'stale' : 'fresh', `pill ${s.stale ? 'stale' : 'fresh'}`),
    ],
    'No tick has arrived yet.',
  );
  [...$('freshness').tBodies[0].rows].forEach((tr, i) => {
    const s = f.sources[i];
    if (!s) return;
    tr.dataset.source = s.source;
    tr.classList.toggle('stale', s.stale);
  });
  state.staleAfter = f.staleAfterSeconds;
  $('stale-note').textContent = `Stale: no tick for more than ${age(f.staleAfterSeconds)}.`;
}

async function load() {
  const [{ symbols }, fresh] = await Promise.all([getJson('/api/markets/symbols'), getJson('/api/markets/freshness')]);
  renderFreshness(fresh);
  $('no-data').hidden = symbols.length > 0 || !!state.pick.symbol;
  fillSymbols(symbols);
  const { symbol, source, interval, limit } = state.pick;
  if (!symbol) {
    document.body.dataset.rendered = '';
    return;
  }
  const pair = new URLSearchParams({ symbol, source: source ?? '', interval });
  const [candles, forecast] = await Promise.all([
    getJson('/api/markets/candles', new URLSearchParams({ symbol, source: source ?? '', interval, limit })),
    getJson('/api/markets/forecast', pair),
  ]);
  const shown = forecast.forecasts.filter((f) => f.source === candles.source);
  renderKpis(
    candles.candles,
    shown,
    symbols.find((s) => s.symbol === symbol && s.source === source),
    fresh.checkedAt,
  );
  renderForecasts(shown);
  updateMarketCharts(priceChart, volumeChart, candles.candles, shown);
  // Tests and scripts wait on this: the page shows exactly this pick.
  document.body.dataset.rendered = `${symbol}|${source}|${interval}|${limit}`;
}

/** One refresh at a time; a request made meanwhile runs right after. */
async function refresh() {
  if (state.running) {
    state.queued = true;
    return;
  }
  state.running = true;
  try {
    await load();
    showRefreshed(null);
  } catch (err) {
    showRefreshed(err);
  } finally {
    state.running = false;
    if (state.queued) {
      state.queued = false;
      void refresh();
    }
  }
}

function choose(change) {
  Object.assign(state.pick, change);
  history.pushState(null, '', toUrl(state.pick));
  void refresh();
}

pickForm.addEventListener('change', () => {
  const [symbol, source] = $('symbol').value.split('|');
  choose({ symbol, source, interval: $('interval').value, limit: $('limit').value });
});
pickForm.addEventListener('submit', (e) => e.preventDefault());
window.addEventListener('popstate', () => {
  state.pick = fromUrl();
  void refresh();
});

getJson('/healthz').then(
  (h) => ($('role').textContent = h.role),
  () => undefined,
);
void refresh();
setInterval(() => {
  if (!document.hidden && $('auto').checked) void refresh();
}, POLL_MS);
