import { api } from '../api.js';
import { badge, errorMessage, facts, field, fill, formatTime, h, message } from '../dom.js';

/** A secret shown once, right after it was made. */
const once = (label, secret) =>
  h('div', { class: 'once', role: 'status' }, h('strong', {}, label), ' (shown this once; store it now): ', h('code', { class: 'secret' }, secret));

function ledgerPart(signal) {
  const rows = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load older entries');
  const status = h('div');
  let cursor = null;
  const load = async () => {
    try {
      const page = await api(`/api/v1/account/ledger?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { signal });
      for (const entry of page.entries) {
        rows.append(
          h(
            'tr',
            { 'data-kind': entry.kind },
            h('td', {}, formatTime(entry.at)),
            h('td', {}, badge(entry.kind, entry.kind === 'refund' ? 'yes' : '')),
            h('td', { class: 'mono' }, entry.kind === 'debit' ? `−${Math.abs(entry.amount)}` : `+${Math.abs(entry.amount)}`),
            h('td', {}, entry.taskId ? h('a', { href: `#/tasks/${encodeURIComponent(entry.taskId)}` }, h('code', {}, entry.taskId)) : '—'),
          ),
        );
      }
      cursor = page.nextCursor;
      more.hidden = !cursor;
      if (rows.children.length === 0) fill(status, message('info', 'No ledger entry yet.'));
    } catch (error) {
      fill(status, errorMessage(error, 'The ledger could not be read'));
    }
  };
  more.addEventListener('click', load);
  return {
    element: h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Ledger'),
      status,
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['When', 'What', 'Credits', 'Task'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        rows,
      ),
      h('p', {}, more),
    ),
    load,
  };
}

function keysPart(signal) {
  const list = h('div');
  const status = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    try {
      const { keys } = await api('/api/v1/account/keys', { signal });
      fill(
        list,
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Key', 'Created', 'Revoked', ''].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            keys.map((key) =>
              h(
                'tr',
                {},
                h('td', {}, h('code', {}, `${key.prefix}…`), key.current ? [' ', badge('this tab')] : null),
                h('td', {}, formatTime(key.createdAt)),
                h('td', {}, key.revokedAt ? formatTime(key.revokedAt) : '—'),
                h(
                  'td',
                  {},
                  key.revokedAt
                    ? null
                    : h(
                        'button',
                        {
                          type: 'button',
                          class: 'danger',
                          'aria-label': `Revoke the key ${key.prefix}…`,
                          onclick: async () => {
                            try {
                              await api(`/api/v1/account/keys/${encodeURIComponent(key.id)}`, { method: 'DELETE', signal });
                              fill(status, message('ok', `Key ${key.prefix}… revoked.`));
                              await load();
                            } catch (error) {
                              fill(status, errorMessage(error, 'The key was not revoked'));
                            }
                          },
                        },
                        'Revoke',
                      ),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      fill(list, errorMessage(error, 'The keys could not be read'));
    }
  };
  const create = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        try {
          const made = await api('/api/v1/account/keys', { method: 'POST', signal });
          fill(status, once('New API key', made.apiKey));
          await load();
        } catch (error) {
          fill(status, errorMessage(error, 'No key was created'));
        }
      },
    },
    'Create an API key',
  );
  return { element: h('section', { class: 'panel' }, h('h2', {}, 'API keys'), h('p', {}, create), status, list), load };
}

function webhookPart(account, signal) {
  const overlap = h('input', { type: 'number', name: 'overlapHours', min: '0', max: '168', step: '1', value: '24' });
  const status = h('div', { 'aria-live': 'polite' });
  const state = h('p', {});
  const describe = (key) =>
    fill(
      state,
      key.set ? 'A webhook key is set: callbacks are signed.' : 'No webhook key: callbacks are sent unsigned.',
      key.previousValidUntil ? ` The previous key still signs too until ${formatTime(key.previousValidUntil)}.` : '',
    );
  describe(account.webhookKey ?? { set: false, previousValidUntil: null });
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const rotated = await api('/api/v1/account/webhook-key/rotate', { method: 'POST', body: { overlapHours: Number(overlap.value) }, signal });
          fill(status, once('New webhook key', rotated.webhookHmacKey));
          describe({ set: true, previousValidUntil: rotated.previousValidUntil });
        } catch (error) {
          fill(status, errorMessage(error, 'The webhook key was not rotated'));
        }
      },
    },
    h(
      'div',
      { class: 'row' },
      field('Overlap (hours)', overlap, 'How long the old key keeps signing too (0–168), so receivers can switch.'),
      h('div', {}, h('button', { type: 'submit' }, 'Rotate the webhook key')),
    ),
  );
  return h('section', { class: 'panel' }, h('h2', {}, 'Webhook key'), state, form, status);
}

/** Credits and ledger, API keys, webhook key rotation. */
export async function accountPage(view, { signal }) {
  const account = await api('/api/v1/account', { signal });
  const ledger = ledgerPart(signal);
  const keys = keysPart(signal);
  fill(
    view,
    h('h1', {}, 'Account'),
    h(
      'section',
      { class: 'panel' },
      facts([
        ['Name', account.name],
        ['Account id', h('code', {}, account.accountId)],
        ['Credits', h('strong', { id: 'credits' }, String(account.credits))],
        ['Sandbox', account.sandbox ? [badge('sandbox', 'simulated'), ' play money: nothing here is charged for real'] : 'no'],
      ]),
    ),
    ledger.element,
    keys.element,
    webhookPart(account, signal),
  );
  await Promise.all([ledger.load(), keys.load()]);
}
