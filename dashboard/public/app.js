// The page: filters <-> URL, one refresh loop. Every few seconds it reads the pipeline panel; the
// analytics (KPIs, charts, table) are fetched again only when a new load has landed, so a quiet
// pipeline costs one small query per poll.
import { getJson, showError, showRefreshed } from './api.js';
import { createCharts, createLoadsChart, updateCharts, updateLoadsChart } from './charts.js';
import { fillOptions, paramsFromUrl, readForm, wireMenus, writeForm } from './filters.js';
import { count, money, rate } from './format.js';
import { renderPipeline } from './pipeline.js';
import { renderTransactions } from './table.js';

const POLL_MS = 5_000;
const PAGE_SIZE = 25;
const $ = (id) => document.getElementById(id);
const form = $('filters');

const state = { params: paramsFromUrl(), page: 1, version: undefined, running: false, queued: null, tableSeq: 0 };
const charts = createCharts();
const loadsChart = createLoadsChart();

function setKpi(id, text, value) {
  $(id).textContent = text;
  $(id).dataset.value = value === null || value === undefined ? '' : String(value);
}

function renderKpis(k) {
  setKpi('kpi-transactions', count(k.transactions), k.transactions);
  setKpi('kpi-total', money(k.totalAmount), k.totalAmount);
  setKpi('kpi-average', money(k.averageAmount), k.averageAmount);
  setKpi('kpi-approval', rate(k.approvalRate), k.approvalRate);
  $('kpi-approved').textContent = k.transactions ? `${count(k.approvedCount)} approved` : '';
  $('empty').hidden = k.transactions > 0;
}

function pageParams() {
  const p = new URLSearchParams(state.params);
  p.set('page', String(state.page));
  p.set('pageSize', String(PAGE_SIZE));
  return p;
}

async function loadTable() {
  const seq = ++state.tableSeq;
  const page = await getJson('/api/transactions', pageParams());
  if (seq !== state.tableSeq) return; // a newer page request superseded this one
  const nav = renderTransactions($('tx'), $('page-info'), page);
  $('prev').disabled = !nav.hasPrev;
  $('next').disabled = !nav.hasNext;
  // An export holds DASHBOARD_CSV_MAX_ROWS rows at most (the oldest first): say so before the click.
  $('export-note').textContent =
    page.total > page.csvMaxRows ? `exports the first ${count(page.csvMaxRows)} of ${count(page.total)} rows` : '';
}

async function loadAnalytics() {
  const query = state.params.toString();
  const [summary] = await Promise.all([getJson('/api/summary', state.params), loadTable()]);
  renderKpis(summary.kpis);
  updateCharts(charts, summary);
  $('export').href = `/api/transactions.csv${query ? `?${query}` : ''}`;
  // Tests and scripts wait on this: the page shows the figures of exactly this filter.
  document.body.dataset.renderedQuery = query;
}

async function loadOptions() {
  fillOptions(form, await getJson('/api/options'));
}

/** Runs one refresh at a time; a request made meanwhile runs right after (a forced one wins). */
async function refresh(force = false) {
  if (state.running) {
    state.queued = state.queued === true || force;
    return;
  }
  state.running = true;
  try {
    const pipeline = await getJson('/api/pipeline');
    renderPipeline(pipeline);
    updateLoadsChart(loadsChart, pipeline.perHour);
    const version = pipeline.totals.last_load_id;
    if (force || version !== state.version) {
      if (version !== state.version) await loadOptions();
      await loadAnalytics();
      state.version = version;
    }
    showRefreshed(null);
  } catch (err) {
    showRefreshed(err);
  } finally {
    state.running = false;
    if (state.queued !== null) {
      const again = state.queued;
      state.queued = null;
      void refresh(again);
    }
  }
}

function applyFilters(params, push) {
  state.params = params;
  state.page = 1;
  if (push) {
    const query = params.toString();
    history.pushState(null, '', query ? `?${query}` : location.pathname);
  }
  void refresh(true);
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  form.querySelectorAll('details.multi').forEach((d) => (d.open = false));
  applyFilters(readForm(form), true);
});
$('reset').addEventListener('click', () => {
  writeForm(form, new URLSearchParams());
  applyFilters(new URLSearchParams(), true);
});
window.addEventListener('popstate', () => {
  const params = paramsFromUrl();
  writeForm(form, params);
  applyFilters(params, false);
});
for (const [id, step] of [
  ['prev', -1],
  ['next', 1],
]) {
  $(id).addEventListener('click', () => {
    state.page = Math.max(1, state.page + step);
    loadTable().catch((err) => showError(err.message));
  });
}

wireMenus(form);
writeForm(form, state.params);
getJson('/healthz').then(
  (h) => ($('role').textContent = h.role),
  () => undefined,
);
void refresh(true);
setInterval(() => {
  if (!document.hidden && $('auto').checked) void refresh(false);
}, POLL_MS);
