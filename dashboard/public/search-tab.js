// Shows the Search tab in the views' navigation only when the search sink is on.
fetch('/api/search/config', { headers: { accept: 'application/json' } })
  .then((r) => (r.ok ? r.json() : { enabled: false }))
  .then((c) => {
    const tab = document.getElementById('search-tab');
    if (tab) tab.hidden = !c.enabled;
  })
  .catch(() => undefined);
