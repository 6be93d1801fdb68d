// The markets view's charts: candlesticks (chartjs-chart-financial) with each model's forecast
// line and 95 % band, and volume bars below on the same time axis (UTC, through the luxon adapter).
// Both axes list the same times (candles, then the forecast's), so the two charts line up.
const { Chart } = window;
// The container sets the height (phone and desktop alike), as on the transactions page. No
// animation: the charts are redrawn on every poll, and a moving candle reads as a price move.
const common = { maintainAspectRatio: false, animation: false, interaction: { mode: 'x', intersect: false } };

export const MODELS = {
  linear_trend: { label: 'Linear trend', color: '#2f6fde', band: 'rgba(47, 111, 222, 0.14)' },
  holt_linear: { label: 'Holt', color: '#8e44ad', band: 'rgba(142, 68, 173, 0.14)' },
};
const UP = '#1f8a4c';
const DOWN = '#c0392b';
const Y_AXIS_WIDTH = 72;

const priceFormat = new Intl.NumberFormat(navigator.language || 'en-US', { maximumSignificantDigits: 7 });
export const price = (v) => (v === null || v === undefined ? '–' : priceFormat.format(v));

const timeAxis = () => ({
  type: 'timeseries',
  offset: true,
  adapters: { date: { zone: 'UTC' } },
  time: { tooltipFormat: 'yyyy-MM-dd HH:mm', displayFormats: { minute: 'HH:mm', hour: 'LLL d HH:mm', day: 'LLL d' } },
  ticks: { source: 'data', maxRotation: 0, autoSkip: true, autoSkipPadding: 40 },
  grid: { display: false },
});
// Same width on both charts, so their time axes start at the same pixel.
const valueAxis = (title, ticks = {}) => ({
  position: 'right',
  title: { display: true, text: title },
  ticks,
  afterFit: (scale) => {
    scale.width = Y_AXIS_WIDTH;
  },
});

function tooltipLabel(ctx) {
  const { dataset: ds, parsed: p } = ctx;
  if (!ds.model) return `O ${price(p.o)}  H ${price(p.h)}  L ${price(p.l)}  C ${price(p.c)}`;
  const what = { lower: '95 % lower bound', upper: '95 % upper bound', predicted: 'forecast' }[ds.role];
  return `${MODELS[ds.model].label} ${what}: ${price(p.y)}`;
}

export function createPriceChart(canvas) {
  const datasets = [
    {
      type: 'candlestick',
      label: 'Candles',
      data: [],
      backgroundColors: { up: UP, down: DOWN, unchanged: '#7f8794' },
      borderColors: { up: UP, down: DOWN, unchanged: '#7f8794' },
    },
  ];
  for (const [model, m] of Object.entries(MODELS)) {
    // The band fills from its upper bound down to the dataset before it, its lower bound.
    datasets.push(
      { type: 'line', label: `${m.label} lower`, model, role: 'lower', data: [], borderWidth: 0, pointRadius: 0, fill: false },
      {
        type: 'line',
        label: `${m.label} 95 %`,
        model,
        role: 'upper',
        data: [],
        borderWidth: 0,
        pointRadius: 0,
        fill: '-1',
        backgroundColor: m.band,
      },
      {
        type: 'line',
        label: `${m.label} forecast`,
        model,
        role: 'predicted',
        data: [],
        borderColor: m.color,
        backgroundColor: m.color,
        borderDash: [6, 4],
        borderWidth: 2,
        pointRadius: 0,
      },
    );
  }
  return new Chart(canvas, {
    type: 'candlestick',
    data: { datasets },
    options: {
      ...common,
      scales: { x: timeAxis(), y: valueAxis('Price', { callback: price }) },
      plugins: {
        legend: { labels: { boxWidth: 12, filter: (item, data) => data.datasets[item.datasetIndex].role !== 'lower' } },
        tooltip: { callbacks: { label: tooltipLabel } },
      },
    },
  });
}

export function createVolumeChart(canvas) {
  return new Chart(canvas, {
    type: 'bar',
    data: { datasets: [{ label: 'Volume', data: [], backgroundColor: 'rgba(93, 103, 120, 0.55)', parsing: false }] },
    options: {
      ...common,
      plugins: { legend: { display: false } },
      scales: { x: timeAxis(), y: valueAxis('Volume', { maxTicksLimit: 4 }) },
    },
  });
}

/** Forecast points from the first shown candle on: an older fit must not stretch the axis back. */
function forecastPoints(forecast, from) {
  return forecast ? forecast.points.filter((p) => Date.parse(p.t) >= from) : [];
}

export function updateMarketCharts(priceChart, volumeChart, candles, forecasts) {
  const from = candles.length ? Date.parse(candles[0].t) : -Infinity;
  priceChart.data.datasets[0].data = candles.map((c) => ({ x: Date.parse(c.t), o: c.open, h: c.high, l: c.low, c: c.close }));
  const future = new Set();
  for (const ds of priceChart.data.datasets.slice(1)) {
    const points = forecastPoints(
      forecasts.find((f) => f.model === ds.model),
      from,
    );
    ds.data = points.map((p) => ({ x: Date.parse(p.t), y: p[ds.role] }));
    for (const p of points) future.add(Date.parse(p.t));
  }
  const candleTimes = new Set(candles.map((c) => Date.parse(c.t)));
  volumeChart.data.datasets[0].data = [
    ...candles.map((c) => ({ x: Date.parse(c.t), y: c.volume })),
    ...[...future]
      .filter((t) => !candleTimes.has(t))
      .sort((a, b) => a - b)
      .map((t) => ({ x: t, y: null })),
  ];
  priceChart.update();
  volumeChart.update();
}
