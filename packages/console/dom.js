// Pages are built from DOM nodes, never from HTML strings: whatever a task or a callback
// contains is shown as text and can never run.

/** `h('button', {type: 'button', onclick}, 'Save')`: attributes, `on*` listeners, children (strings, nodes, arrays, null). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (name in element && typeof value !== 'string') element[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

/** Replaces an element's content. */
export const fill = (element, ...children) => {
  element.replaceChildren();
  return append(element, children);
};

/** A message that screen readers announce; `kind` is error, info or ok. */
export const message = (kind, text) => h('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);

/** An error as a person should read it: the API's own words with its code. */
export function errorMessage(error, doing) {
  const code = typeof error?.code === 'number' && error.code > 0 ? ` (code ${error.code})` : '';
  return message('error', `${doing}: ${error?.message ?? String(error)}${code}`);
}

export const formatTime = (ms) => (typeof ms === 'number' ? new Date(ms).toLocaleString() : '—');
export const formatSeconds = (s) => (typeof s === 'number' && Number.isFinite(s) ? `${s.toFixed(2)} s` : '—');
export const badge = (text, kind = text) => h('span', { class: `badge ${kind}` }, text);
export const json = (value) => h('pre', { class: 'mono' }, JSON.stringify(value, null, 2));

/** A definition list of label → value pairs, skipping empty values. */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== '').map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]),
  );
}

/** A labelled control: `field('Prompt', h('textarea', {...}))` with a generated id. */
let fieldCount = 0;
export function field(label, control, hint) {
  fieldCount += 1;
  const id = control.id || `field-${fieldCount}`;
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', {}, h('label', { for: id }, label), control, hint ? h('div', { class: 'muted', id: hintId }, hint) : null);
}

/** Whether a signature verified, as the inbox recorded it (null: there was no key to check it with). */
export const verifiedBadge = (value) =>
  badge(value === null || value === undefined ? 'not checked' : value ? 'valid' : 'invalid', value ? 'yes' : value === false ? 'no' : '');

/**
 * A player (audio or video) with a clear message in place of silence when its file cannot be
 * loaded: file URLs expire (uploads after 3 days, results after 14, by default).
 */
export function playable(media, what) {
  const note = h('div');
  media.addEventListener('error', () =>
    fill(note, message('error', `${what} cannot be played: the file is gone (expired or removed) or unreadable (${media.src}).`)),
  );
  return h('div', {}, media, note);
}
