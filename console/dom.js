// Building the page from values, never from HTML strings: every text goes in as a text node, so
// a value from the API (a reason, a note, a province's error) cannot become markup or script.
// The Content-Security-Policy (api/routes/console.ts) forbids inline script and style as well.

/**
 * An element: h('a', {href: '/console/stuck', class: 'nav', onclick: fn}, 'text', child, …).
 * Props: `class`, `text`, `dataset`, `on<event>` handlers, boolean and string attributes;
 * children: nodes, strings, numbers, arrays of them; null, undefined and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'required' || key === 'multiple') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A `<select>` of [value, label] pairs, with `selected` chosen. */
export function select(props, options, selected) {
  return h(
    'select',
    props,
    options.map(([value, label]) => h('option', { value, selected: String(value) === String(selected ?? '') }, label)),
  );
}

/** A labelled form field: `<label><span>label</span> control</label>`. */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control, hint ? h('small', { class: 'hint' }, hint) : null);
}

/** A table from column definitions [{label, cell: (row) => node|string, class?}] and rows. */
export function table(columns, rows, opts = {}) {
  return h(
    'table',
    { class: ['data', opts.class] },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.class, scope: 'col' }, c.label)))),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { class: 'empty', colspan: String(columns.length) }, opts.empty ?? '—'))
        : rows.map((row) => h('tr', { class: opts.rowClass?.(row), dataset: opts.rowData?.(row) }, columns.map((c) => h('td', { class: c.class }, c.cell(row))))),
    ),
  );
}

/** A section with a heading, used for every block of a page. */
export function section(title, ...children) {
  return h('section', { class: 'block' }, h('h2', {}, title), ...children);
}
