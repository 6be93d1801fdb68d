// The pipeline panel: loads, quarantine, lag and quality, with links to each run in Temporal.
import { count, utcTime } from './format.js';
import { cell, fillRows, linkCell } from './table.js';

const $ = (id) => document.getElementById(id);

function setKpi(id, text, value, tone) {
  const el = $(id);
  el.textContent = text;
  el.dataset.value = value === null || value === undefined ? '' : String(value);
  el.classList.remove('good', 'bad', 'warn');
  if (tone) el.classList.add(tone);
}

function renderLag(lag) {
  const note = $('lag-note');
  if (!lag.available) {
    setKpi('p-lag', 'unknown', null, 'warn');
    note.textContent = lag.note;
    note.hidden = false;
    fillRows($('lag'), [], () => [], 'Kafka did not answer.');
    return;
  }
  note.hidden = true;
  const total = lag.topics.reduce((n, t) => n + t.lag, 0);
  setKpi('p-lag', count(total), total, total === 0 ? 'good' : 'warn');
  const rows = lag.topics.flatMap((t) =>
    t.exists
      ? t.partitions.map((p) => ({ topic: t.topic, ...p }))
      : [{ topic: `${t.topic} (no topic yet)`, partition: '–', high: null, committed: null, lag: 0 }],
  );
  fillRows($('lag'), rows, (r) => [
    cell(r.topic),
    cell(String(r.partition), 'num'),
    cell(r.high === null ? '–' : count(r.high), 'num'),
    cell(r.committed === null ? 'none' : count(r.committed), 'num'),
    cell(count(r.lag), 'num'),
  ]);
}

/** The object's file name (it holds partition and offsets); the full key on hover. */
function objectCell(key) {
  const td = cell(key ? key.slice(key.lastIndexOf('/') + 1) : 'replay');
  if (key) td.title = key;
  return td;
}

/** A failure message, cut to a line; the whole of it on hover. */
function messageCell(message) {
  const td = cell(message.length > 120 ? `${message.slice(0, 119)}…` : message);
  td.title = message;
  return td;
}

export function renderPipeline(p) {
  const t = p.totals;
  setKpi('p-loaded', count(t.loaded_rows), t.loaded_rows);
  $('p-last-load').textContent = t.last_loaded_at ? `last load ${utcTime(t.last_loaded_at)} UTC` : 'no load yet';
  setKpi('p-quarantined', count(t.quarantined), t.quarantined, t.quarantined > 0 ? 'warn' : 'good');
  const backlog = t.pending_objects + t.unloaded_objects;
  setKpi('p-backlog', count(backlog), backlog, backlog > 0 ? 'warn' : 'good');
  const passed = p.quality.filter((q) => q.passed).length;
  setKpi(
    'p-quality',
    p.quality.length ? `${passed}/${p.quality.length}` : '–',
    passed,
    p.quality.length === 0 ? null : passed === p.quality.length ? 'good' : 'bad',
  );
  renderLag(p.lag);
  // The search sink's lag: rows loaded but not yet indexed (only when the sink is on).
  $('search-lag-card').hidden = !p.search;
  if (p.search)
    fillRows($('search-lag'), p.search, (s) => [
      cell(s.stream),
      cell(count(s.rowsBehind), 'num'),
      cell(count(s.objectsBehind), 'num'),
      cell(count(s.docsIndexed), 'num'),
      cell(count(s.docsRejected), 'num'),
      cell(s.lastIndexedAt ? utcTime(s.lastIndexedAt) : '–'),
    ]);

  const all = $('temporal-all');
  all.href = p.temporalUi;

  fillRows(
    $('runs'),
    p.runs,
    (r) => [
      linkCell(r.workflow_id, r.temporal_url),
      cell(utcTime(r.finished_at)),
      cell(count(r.objects), 'num'),
      cell(count(r.rows_in), 'num'),
      cell(count(r.inserted), 'num'),
      cell(count(r.duplicates), 'num'),
      cell(count(r.quarantined), 'num'),
      r.checks ? cell(`${r.checks_passed}/${r.checks} passed`, `pill ${r.checks_passed === r.checks ? 'pass' : 'fail'}`) : cell('–'),
    ],
    'No run has loaded anything yet.',
  );
  fillRows(
    $('quality'),
    p.quality,
    (q) => [
      cell(q.passed ? 'PASS' : 'FAIL', `pill ${q.passed ? 'pass' : 'fail'}`),
      cell(q.check_name),
      cell(q.observed ?? '–', 'num'),
      cell(q.expected ?? '–', 'num'),
    ],
    'No quality check has run yet.',
  );
  // Parked: the object's transform or load failed for good; `etl objects retry <id>` after the fix.
  fillRows(
    $('parked'),
    p.parked,
    (o) => [
      cell(String(o.id), 'num'),
      cell(o.stream),
      objectCell(o.objectKey),
      cell(`${o.code} at ${o.step}`, 'pill fail'),
      messageCell(o.message),
      cell(utcTime(o.parkedAt)),
      linkCell(o.workflowId ?? '–', o.temporal_url),
    ],
    'No parked object.',
  );
  // Drift: fields records carried that their stream does not declare, and what the declaration does with them.
  fillRows(
    $('drift'),
    p.drift,
    (d) => [
      cell(d.stream),
      cell(d.drift ? count(d.drift.fields) : '0', 'num'),
      cell(d.drift ? d.drift.names.join(', ') + (d.drift.fields > d.drift.names.length ? ', …' : '') : 'none'),
      cell(d.drift ? count(d.drift.records) : '0', 'num'),
      cell(d.drift ? utcTime(d.drift.lastSeenAt) : '–'),
      d.undeclaredFields === 'quarantine' ? cell('quarantined (UNDECLARED_FIELD)', 'pill') : cell('loaded, kept in raw'),
    ],
    'No stream.',
  );
  fillRows(
    $('loads'),
    p.loads,
    (l) => [
      cell(String(l.load_id), 'num'),
      cell(utcTime(l.loaded_at)),
      objectCell(l.object_key),
      cell(count(l.rows_in), 'num'),
      cell(count(l.inserted_count), 'num'),
      cell(count(l.duplicate_count), 'num'),
      cell(count(l.quarantined_count), 'num'),
      linkCell(l.workflow_id ?? '–', l.temporal_url),
    ],
    'No load yet.',
  );
}
