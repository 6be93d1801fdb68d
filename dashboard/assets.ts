// The web app's files, all local: our own under dashboard/public and Chart.js from node_modules,
// so the dashboard works offline. A fixed list, read once at start: no path from a request ever
// reaches the file system.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/config';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

// From the checkout, not from __dirname: the built dashboard (dist/dashboard) serves the same files.
const PUBLIC_DIR = path.join(PROJECT_ROOT, 'dashboard', 'public');
// chart.js exports only its module entry points; its UMD build sits next to the CommonJS one.
const CHART_JS_DIST = path.dirname(require.resolve('chart.js'));
// The markets view's candlesticks: chartjs-chart-financial, with luxon as Chart.js's date adapter
// (their UMD builds, which register themselves on window.Chart).
const FINANCIAL_JS = require.resolve('chartjs-chart-financial');
const LUXON_JS = path.join(path.dirname(require.resolve('luxon')), '..', 'global', 'luxon.min.js');
const LUXON_ADAPTER_JS = path.join(path.dirname(require.resolve('chartjs-adapter-luxon')), 'chartjs-adapter-luxon.umd.min.js');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const FILES: Record<string, string> = {
  '/': path.join(PUBLIC_DIR, 'index.html'),
  '/assets/style.css': path.join(PUBLIC_DIR, 'style.css'),
  '/assets/app.js': path.join(PUBLIC_DIR, 'app.js'),
  '/assets/api.js': path.join(PUBLIC_DIR, 'api.js'),
  '/assets/format.js': path.join(PUBLIC_DIR, 'format.js'),
  '/assets/filters.js': path.join(PUBLIC_DIR, 'filters.js'),
  '/assets/charts.js': path.join(PUBLIC_DIR, 'charts.js'),
  '/assets/table.js': path.join(PUBLIC_DIR, 'table.js'),
  '/assets/pipeline.js': path.join(PUBLIC_DIR, 'pipeline.js'),
  '/assets/chart.umd.min.js': path.join(CHART_JS_DIST, 'chart.umd.min.js'),
  '/markets': path.join(PUBLIC_DIR, 'markets.html'),
  '/assets/markets.css': path.join(PUBLIC_DIR, 'markets.css'),
  '/assets/markets.js': path.join(PUBLIC_DIR, 'markets.js'),
  '/assets/markets.chart.js': path.join(PUBLIC_DIR, 'markets.chart.js'),
  '/assets/chartjs-chart-financial.min.js': FINANCIAL_JS,
  '/assets/luxon.min.js': LUXON_JS,
  '/assets/chartjs-adapter-luxon.umd.min.js': LUXON_ADAPTER_JS,
  '/search': path.join(PUBLIC_DIR, 'search.html'),
  '/assets/search.css': path.join(PUBLIC_DIR, 'search.css'),
  '/assets/search.js': path.join(PUBLIC_DIR, 'search.js'),
  '/assets/search-tab.js': path.join(PUBLIC_DIR, 'search-tab.js'),
};

export function loadAssets(): Map<string, Asset> {
  return new Map(
    Object.entries(FILES).map(([url, file]) => {
      const body = readFileSync(file);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
      return [url, { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag }];
    }),
  );
}
