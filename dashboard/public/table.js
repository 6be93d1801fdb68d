// Table rendering. Values come from producers (merchant names, ...), so cells are always set
// with textContent, never parsed as HTML.
import { count, utcTime } from './format.js';

/** A <td> with text; `cls` for alignment or a pill. */
export function cell(text, cls) {
  const td = document.createElement('td');
  if (cls === 'pill' || cls?.startsWith('pill ')) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    td.append(span);
  } else {
    if (cls) td.className = cls;
    td.textContent = text;
  }
  return td;
}

/** A <td> holding a link that opens in a new tab; only http(s) addresses become links. */
export function linkCell(text, href) {
  const td = document.createElement('td');
  if (href && /^https?:\/\//.test(href)) {
    const a = document.createElement('a');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = text;
    td.append(a);
  } else {
    td.textContent = text ?? '–';
  }
  return td;
}

export function fillRows(table, rows, toCells, emptyText = 'Nothing yet.') {
  const body = table.tBodies[0];
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(emptyText, 'muted');
    td.colSpan = table.tHead.rows[0].cells.length;
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      tr.append(...toCells(r));
      return tr;
    }),
  );
}

const amount2 = (v) => Number(v).toFixed(2);

export function renderTransactions(table, info, page) {
  fillRows(
    table,
    page.rows,
    (r) => [
      // Amount and status early: on a phone they are what shows before scrolling sideways.
      cell(utcTime(r.event_ts)),
      cell(r.merchant),
      cell(amount2(r.amount), 'num'),
      cell(r.status, `pill ${r.status}`),
      cell(r.category),
      cell(r.city),
      cell(r.currency),
      cell(r.payment_method),
      cell(String(r.user_id), 'num'),
    ],
    'No transaction matches these filters.',
  );
  const first = page.total === 0 ? 0 : (page.page - 1) * page.pageSize + 1;
  const last = Math.min(page.total, page.page * page.pageSize);
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  // Pages reach only so deep (DASHBOARD_MAX_RESULT_WINDOW): past that, narrowing is the way on.
  const deep = pages > page.maxPage ? ` (the first ${count(page.maxPage)} can be shown: narrow the filters to see the rest)` : '';
  info.textContent = `${count(first)}–${count(last)} of ${count(page.total)} · page ${count(page.page)} of ${count(pages)}${deep}`;
  return { hasPrev: page.page > 1, hasNext: page.page < Math.min(pages, page.maxPage) };
}
