// The Search tab: a query string over a stream's index (through the dashboard's own API, never
// OpenSearch directly), events per day and top terms for that query, and each hit's lineage.
import { getJson, showRefreshed } from './api.js';

const byId = (id) => document.getElementById(id);
let config = { enabled: false, streams: [] };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function bars(container, items, label, onPick) {
  container.replaceChildren();
  const max = Math.max(1, ...items.map((i) => i.count));
  for (const item of items) {
    const row = el('div', undefined, 'bar');
    const name = onPick ? el('button', label(item)) : el('span', label(item));
    if (onPick) {
      name.type = 'button';
      name.addEventListener('click', () => onPick(item));
    }
    const fill = el('span', undefined, 'fill');
    fill.style.width = `${(100 * item.count) / max}%`;
    row.append(name, fill, el('span', item.count, 'num'));
    container.append(row);
  }
  if (items.length === 0) container.append(el('p', 'nothing', 'muted'));
}

async function showLineage(stream, key) {
  const params = new URLSearchParams({ stream, key });
  const l = await getJson('/api/search/lineage', params);
  const list = byId('lineage-list');
  list.replaceChildren();
  const add = (k, v) => list.append(el('dt', k), el('dd', v ?? '-'));
  add('key', l.key);
  add('kafka', `${l.kafka_topic}[${l.kafka_partition}]@${l.kafka_offset}`);
  add('bronze object', `#${l.bronze_object_id} ${l.object_key ?? ''}`);
  add('rows version', l.rows_version);
  add('load', `#${l.load_id} at ${l.loaded_at ?? '-'}`);
  const dd = el('dd');
  if (l.temporalUrl) {
    const a = el('a', l.workflow_id);
    a.href = l.temporalUrl;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    dd.append(a);
  } else dd.textContent = '-';
  list.append(el('dt', 'run'), dd);
  byId('lineage').hidden = false;
}

async function run() {
  const stream = byId('stream').value;
  const params = new URLSearchParams({ stream, q: byId('q').value, field: byId('field').value });
  try {
    const r = await getJson('/api/search', params);
    byId('total').textContent = r.total;
    bars(byId('histogram'), r.histogram, (b) => b.day);
    byId('top-field').textContent = r.topField ?? 'terms';
    bars(
      byId('top'),
      r.top,
      (t) => t.value,
      (t) => {
        const clause = `${r.topField}:"${t.value}"`;
        byId('q').value = byId('q').value.trim() ? `(${byId('q').value.trim()}) AND ${clause}` : clause;
        void run();
      },
    );
    const fields = r.hits.length
      ? Object.keys(r.hits[0].source)
          .filter((f) => !['stream', 'rows_version'].includes(f))
          .slice(0, 9)
      : [];
    const head = byId('hits').tHead.rows[0];
    head.replaceChildren(...fields.map((f) => el('th', f)), el('th', 'lineage'));
    const body = byId('hits').tBodies[0];
    body.replaceChildren(
      ...r.hits.map((h) => {
        const tr = el('tr');
        for (const f of fields) tr.append(el('td', h.source[f] ?? ''));
        const td = el('td');
        const b = el('button', 'lineage', 'lineage-link');
        b.type = 'button';
        b.addEventListener('click', () => showLineage(stream, h.id).catch((e) => showRefreshed(e)));
        td.append(b);
        tr.append(td);
        return tr;
      }),
    );
    const lag = config.streams.find((s) => s.stream === stream)?.lag;
    byId('lag').textContent = lag ? `${lag.rowsBehind} rows not indexed yet · ${lag.docsRejected} refused` : '';
    showRefreshed(null);
  } catch (e) {
    showRefreshed(e);
  }
}

async function start() {
  config = await getJson('/api/search/config');
  byId('off').hidden = config.enabled;
  byId('search-form').hidden = !config.enabled;
  const fields = () => {
    const s = config.streams.find((x) => x.stream === byId('stream').value);
    byId('field').replaceChildren(...(s ? s.termsFields : []).map((f) => el('option', f)));
  };
  byId('stream').replaceChildren(...config.streams.map((s) => el('option', s.stream)));
  fields();
  byId('stream').addEventListener('change', () => {
    fields();
    void run();
  });
  byId('field').addEventListener('change', () => void run());
  byId('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run();
  });
  if (config.enabled) await run();
  else showRefreshed(null);
}

start().catch((e) => showRefreshed(e));
