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
