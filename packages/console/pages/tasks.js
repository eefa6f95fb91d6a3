import { api, streamEvents } from '../api.js';
import { badge, errorMessage, field, fill, formatTime, h, message } from '../dom.js';

let meta = null;
/** Kinds and statuses the filters offer, published by the server from its own registry. */
async function filterChoices() {
  if (!meta) meta = await (await fetch('meta.json')).json();
  return meta;
}

const options = (values, chosen) => [h('option', { value: '' }, 'all'), values.map((value) => h('option', { value, selected: value === chosen }, value))];

/** Newest first, filtered by kind and status, kept live by the account's task feed. */
export async function tasksPage(view, { signal }) {
  const { kinds, statuses } = await filterChoices();
  const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const filters = { kind: query.get('kind') ?? '', status: query.get('status') ?? '' };
  const kindSelect = h('select', { name: 'kind' }, options(kinds, filters.kind));
  const statusSelect = h('select', { name: 'status' }, options(statuses, filters.status));
  const live = h('span', { class: 'muted', 'aria-live': 'polite' }, 'Connecting to the live feed…');
  const rows = h('tbody');
  const status = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load older tasks');
  const shown = new Map();
  let cursor = null;

  const matches = (task) => (!filters.kind || task.kind === filters.kind) && (!filters.status || task.status === filters.status);

  function row(task) {
    return h(
      'tr',
      { 'data-task-id': task.taskId },
      h('td', {}, h('a', { href: `#/tasks/${encodeURIComponent(task.taskId)}` }, h('code', {}, task.taskId))),
      h('td', {}, task.kind),
      h('td', {}, badge(task.status), task.simulated ? [' ', badge('simulated')] : null),
      h('td', {}, formatTime(task.createTime)),
      h('td', {}, formatTime(task.completeTime)),
      h('td', {}, task.errorMessage ? `${task.errorCode ?? ''} ${task.errorMessage}` : ''),
    );
  }

  function show(task, { onTop }) {
    const old = shown.get(task.taskId);
    const fresh = row(task);
    if (old) old.replaceWith(fresh);
    else if (onTop) rows.prepend(fresh);
    else rows.append(fresh);
    shown.set(task.taskId, fresh);
  }

  async function load(first) {
    const params = new URLSearchParams({ limit: '50' });
    if (filters.kind) params.set('kind', filters.kind);
    if (filters.status) params.set('status', filters.status);
    if (!first && cursor) params.set('cursor', cursor);
    try {
      const page = await api(`/api/v1/tasks?${params}`, { signal });
      if (first) {
        rows.replaceChildren();
        shown.clear();
      }
      for (const task of page.tasks) show(task, { onTop: false });
      cursor = page.nextCursor;
      more.hidden = !cursor;
      fill(
        status,
        shown.size === 0
          ? message(
              'info',
              filters.kind || filters.status ? 'No task matches these filters.' : 'No task yet: make one on the New task page or through the API.',
            )
          : null,
      );
    } catch (error) {
      if (!signal.aborted) fill(status, errorMessage(error, 'The tasks could not be loaded'));
    }
  }

  const applyFilters = () => {
    filters.kind = kindSelect.value;
    filters.status = statusSelect.value;
    const params = new URLSearchParams(Object.entries(filters).filter(([, value]) => value));
    history.replaceState(null, '', `#/tasks${params.size ? `?${params}` : ''}`);
    load(true);
  };
  kindSelect.addEventListener('change', applyFilters);
  statusSelect.addEventListener('change', applyFilters);
  more.addEventListener('click', () => load(false));

  fill(
    view,
    h('h1', {}, 'Tasks'),
    h('div', { class: 'row' }, field('Kind', kindSelect), field('Status', statusSelect), h('div', {}, live)),
    status,
    h(
      'table',
      {},
      h('caption', { class: 'muted' }, 'Newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Task', 'Kind', 'Status', 'Created', 'Completed', 'Error'].map((title) => h('th', { scope: 'col' }, title)),
        ),
      ),
      rows,
    ),
    h('p', {}, more),
  );
  // The feed opens first, then the list is read: no change can fall between the two.
  streamEvents(
    '/api/v1/tasks/feed',
    (event, task) => {
      if (event !== 'task' || !task?.taskId) return;
      if (matches(task)) {
        show(task, { onTop: true });
        fill(status);
      } else if (shown.has(task.taskId)) {
        shown.get(task.taskId).remove();
        shown.delete(task.taskId);
      }
    },
    {
      signal,
      onState: (state) => {
        if (state === 'live') live.textContent = 'Live: changes appear as they happen.';
        else if (state === 'reconnecting') live.textContent = 'The live feed dropped; reconnecting…';
        else live.textContent = `The live feed is not available (${state.message}); reload to refresh.`;
      },
    },
  );
  await load(true);
}
