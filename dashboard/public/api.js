// JSON from the dashboard's own API. A failed request becomes an Error carrying the server's
// message (for a 400 it names the bad filter), which the page shows as it is.
export async function getJson(path, params) {
  const query = params ? params.toString() : '';
  const res = await fetch(query ? `${path}?${query}` : path, { headers: { accept: 'application/json' } });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: the status line below is all there is to say
  }
  if (!res.ok) throw new Error(body && body.message ? body.message : `${path}: HTTP ${res.status} ${res.statusText}`);
  return body;
}

const byId = (id) => document.getElementById(id);

/** The page's error banner: shown with the message, hidden when the message is empty. */
export function showError(message) {
  byId('error').textContent = message;
  byId('error').hidden = !message;
}

/** After a refresh: the header's live dot, its "Updated …" line, and the error banner. */
export function showRefreshed(error) {
  showError(error ? error.message : '');
  byId('live-dot').className = error ? 'dot off' : 'dot on';
  byId('updated').textContent = error ? 'Update failed' : `Updated ${new Date().toLocaleTimeString()}`;
}
