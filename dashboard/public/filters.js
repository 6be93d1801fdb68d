// The filter form and the URL hold the same thing: URLSearchParams with the API's parameter
// names, so a copied address opens the same view and the server validates it like any request.
export const FILTER_KEYS = ['from', 'to', 'category', 'city', 'status', 'merchant', 'minAmount', 'maxAmount'];
const MULTI = ['category', 'city', 'status', 'merchant'];
const SINGLE = ['from', 'to', 'minAmount', 'maxAmount'];

/**
 * The filters of the address, all of them: an unknown key then gets the server's 400 naming it,
 * rather than a silently wider view than the person who shared the link saw.
 */
export function paramsFromUrl(search = location.search) {
  return new URLSearchParams(search);
}

function menu(form, name) {
  return form.querySelector(`details.multi[data-name="${name}"]`);
}

function updateChosen(form, name) {
  const boxes = [...menu(form, name).querySelectorAll('input[type=checkbox]:checked')];
  const chosen = menu(form, name).querySelector('.chosen');
  const names = boxes.map((b) => b.value);
  chosen.textContent = names.length === 0 ? 'all' : names.length === 1 ? names[0] : `${names.length} selected`;
  chosen.classList.toggle('set', names.length > 0);
  menu(form, name).querySelector('summary').title = names.join(', ');
}

/** Fills the menus with the values present in the data, keeping whatever is selected. */
export function fillOptions(form, options) {
  const lists = { category: options.categories, city: options.cities, status: options.statuses, merchant: options.merchants };
  for (const name of MULTI) {
    const box = menu(form, name).querySelector('.options');
    const selected = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
    const values = [...new Set([...lists[name], ...selected])];
    box.replaceChildren(
      ...values.map((value) => {
        const label = document.createElement('label');
        const input = document.createElement('input');
        input.type = 'checkbox';
        input.name = name;
        input.value = value;
        input.checked = selected.has(value);
        input.addEventListener('change', () => updateChosen(form, name));
        label.append(input, document.createTextNode(value));
        return label;
      }),
    );
    updateChosen(form, name);
  }
  for (const name of ['from', 'to']) {
    if (options.minDate) form.elements[name].min = options.minDate;
    if (options.maxDate) form.elements[name].max = options.maxDate;
  }
}

export function writeForm(form, params) {
  for (const name of SINGLE) form.elements[name].value = params.get(name) ?? '';
  for (const name of MULTI) {
    const wanted = new Set(params.getAll(name));
    const box = menu(form, name).querySelector('.options');
    for (const input of box.querySelectorAll('input')) input.checked = wanted.delete(input.value);
    // A value from a shared link that the menu does not list (yet): show it, selected.
    for (const value of wanted) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      Object.assign(input, { type: 'checkbox', name, value, checked: true });
      input.addEventListener('change', () => updateChosen(form, name));
      label.append(input, document.createTextNode(value));
      box.append(label);
    }
    updateChosen(form, name);
  }
}

export function readForm(form) {
  const params = new URLSearchParams();
  for (const name of FILTER_KEYS) {
    if (MULTI.includes(name)) {
      for (const input of menu(form, name).querySelectorAll('input:checked')) params.append(name, input.value);
    } else if (form.elements[name].value !== '') {
      params.append(name, form.elements[name].value);
    }
  }
  return params;
}

/** One open menu at a time; a click elsewhere closes it. */
export function wireMenus(form) {
  const menus = [...form.querySelectorAll('details.multi')];
  for (const d of menus) d.addEventListener('toggle', () => d.open && menus.forEach((o) => o !== d && (o.open = false)));
  document.addEventListener('click', (e) => menus.forEach((d) => !d.contains(e.target) && (d.open = false)));
}
