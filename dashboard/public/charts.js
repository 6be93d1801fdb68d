// Chart.js charts, created once and updated in place on each refresh (no flicker while polling).
// Amount axes are EUR, count axes are transactions; both are titled, tooltips give exact values.
import { BUCKET_LABELS, count, countAxis, dayLabel, hourLabel, money, moneyAxis } from './format.js';

const { Chart } = window;
const AMOUNT = '#2f6fde';
const COUNT = '#f08c2e';
const QUARANTINE = '#c0392b';

Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.color = '#4a5466';
Chart.defaults.animation = { duration: 250 };
Chart.defaults.maintainAspectRatio = false;

const amountAxis = (position = 'left', grid = true) => ({
  type: 'linear',
  position,
  beginAtZero: true,
  grid: { display: grid },
  title: { display: true, text: 'Amount (EUR)' },
  ticks: { callback: moneyAxis },
});
const countAxisOf = (title = 'Transactions', position = 'right', grid = false) => ({
  type: 'linear',
  position,
  beginAtZero: true,
  grid: { display: grid },
  title: { display: true, text: title },
  ticks: { callback: countAxis, precision: 0 },
});

function tooltipLabel(ctx) {
  const v = ctx.parsed.y ?? ctx.parsed.x;
  return `${ctx.dataset.label}: ${ctx.dataset.money ? money(v) : count(v)}`;
}
const common = {
  plugins: { tooltip: { callbacks: { label: tooltipLabel } }, legend: { labels: { boxWidth: 12 } } },
  interaction: { mode: 'index', intersect: false },
};

/** Bars of amount (left axis) and count (right axis) per key. */
function amountAndCount(id, xTitle) {
  return new Chart(document.getElementById(id), {
    type: 'bar',
    data: {
      labels: [],
      datasets: [
        { label: 'Amount (EUR)', data: [], backgroundColor: AMOUNT, yAxisID: 'amount', money: true },
        { label: 'Transactions', data: [], backgroundColor: COUNT, yAxisID: 'count' },
      ],
    },
    // Every label shown (rotated on a phone): a chart with every other city missing misleads.
    options: {
      ...common,
      scales: { x: { title: { display: !!xTitle, text: xTitle }, ticks: { autoSkip: false } }, amount: amountAxis(), count: countAxisOf() },
    },
  });
}

/** Amount as a line over count (line or bars); points only where there are few (daily). */
function trend(id, type, xTitle, pointRadius) {
  return new Chart(document.getElementById(id), {
    data: {
      labels: [],
      datasets: [
        {
          type: 'line',
          label: 'Amount (EUR)',
          data: [],
          borderColor: AMOUNT,
          backgroundColor: AMOUNT,
          yAxisID: 'amount',
          money: true,
          pointRadius,
          cubicInterpolationMode: 'monotone',
          order: 1,
        },
        {
          type,
          label: 'Transactions',
          data: [],
          borderColor: COUNT,
          backgroundColor: type === 'bar' ? 'rgba(240,140,46,0.55)' : COUNT,
          yAxisID: 'count',
          pointRadius,
          cubicInterpolationMode: 'monotone',
          order: 2,
          maxBarThickness: 80,
        },
      ],
    },
    options: {
      ...common,
      scales: {
        x: { title: { display: true, text: xTitle }, ticks: { autoSkip: true, autoSkipPadding: 16, maxTicksLimit: 12, maxRotation: 0 } },
        amount: amountAxis(),
        count: countAxisOf(),
      },
    },
  });
}

export function createCharts() {
  return {
    category: amountAndCount('chart-category', 'Category'),
    city: amountAndCount('chart-city', 'City'),
    status: amountAndCount('chart-status', 'Status'),
    merchants: new Chart(document.getElementById('chart-merchants'), {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Amount (EUR)', data: [], backgroundColor: AMOUNT, money: true }] },
      options: {
        ...common,
        indexAxis: 'y',
        plugins: {
          ...common.plugins,
          legend: { display: false },
          tooltip: {
            callbacks: { label: tooltipLabel, afterLabel: (ctx) => `Transactions: ${count(ctx.chart.$counts?.[ctx.dataIndex])}` },
          },
        },
        scales: { x: { ...amountAxis('bottom') }, y: { ticks: { autoSkip: false } } },
      },
    }),
    hourly: trend('chart-hourly', 'line', 'Hour (UTC)', 0),
    daily: trend('chart-daily', 'bar', 'Day (UTC)', 3),
    buckets: new Chart(document.getElementById('chart-buckets'), {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Transactions', data: [], backgroundColor: COUNT }] },
      options: {
        ...common,
        plugins: {
          ...common.plugins,
          legend: { display: false },
          tooltip: { callbacks: { label: tooltipLabel, afterLabel: (ctx) => `Amount: ${money(ctx.chart.$amounts?.[ctx.dataIndex])}` } },
        },
        scales: { x: { title: { display: true, text: 'Amount band' } }, y: countAxisOf('Transactions', 'left', true) },
      },
    }),
  };
}

function setGroups(chart, groups, label = (k) => k) {
  chart.data.labels = groups.map((g) => label(g.key));
  chart.data.datasets[0].data = groups.map((g) => Number(g.amount));
  if (chart.data.datasets[1]) chart.data.datasets[1].data = groups.map((g) => g.count);
  chart.$counts = groups.map((g) => g.count);
  chart.update();
}

export function updateCharts(charts, s) {
  setGroups(charts.category, s.byCategory);
  setGroups(charts.city, s.byCity);
  setGroups(charts.status, s.byStatus);
  setGroups(charts.merchants, s.topMerchants);
  setGroups(charts.hourly, s.hourly, hourLabel);
  setGroups(charts.daily, s.daily, dayLabel);
  const b = charts.buckets;
  b.data.labels = s.amountBuckets.map((g) => BUCKET_LABELS[g.key] ?? g.key);
  b.data.datasets[0].data = s.amountBuckets.map((g) => g.count);
  b.$amounts = s.amountBuckets.map((g) => g.amount);
  b.update();
}

export function createLoadsChart() {
  return new Chart(document.getElementById('chart-loads'), {
    data: {
      labels: [],
      datasets: [
        { type: 'bar', label: 'Rows loaded', data: [], backgroundColor: AMOUNT, yAxisID: 'loaded', order: 2 },
        {
          type: 'line',
          label: 'Quarantined',
          data: [],
          borderColor: QUARANTINE,
          backgroundColor: QUARANTINE,
          yAxisID: 'quarantined',
          pointRadius: 2,
          order: 1,
        },
      ],
    },
    options: {
      ...common,
      scales: {
        x: {
          title: { display: true, text: 'Hour (UTC)' },
          ticks: { autoSkip: true, autoSkipPadding: 16, maxTicksLimit: 12, maxRotation: 0 },
        },
        loaded: countAxisOf('Rows loaded', 'left', true),
        quarantined: countAxisOf('Quarantined records', 'right', false),
      },
    },
  });
}

export function updateLoadsChart(chart, perHour) {
  chart.data.labels = perHour.map((h) => hourLabel(h.hour));
  chart.data.datasets[0].data = perHour.map((h) => h.loaded);
  chart.data.datasets[1].data = perHour.map((h) => h.quarantined);
  chart.update();
}
