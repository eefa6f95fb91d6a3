import { api } from '../api.js';
import { errorMessage, facts, fill, formatTime, h, message, verifiedBadge } from '../dom.js';

const REFRESH_MS = 2000;

function requestItem(request) {
  return h(
    'section',
    { class: 'panel', 'data-request-id': request.id },
    h('h3', {}, `${request.method} ${request.path} · ${formatTime(request.at)}`),
    h('p', {}, 'KIE signature: ', verifiedBadge(request.verified?.kie), ' · Standard Webhooks signature: ', verifiedBadge(request.verified?.standardWebhooks)),
    facts(Object.entries(request.headers).map(([name, value]) => [name, h('code', {}, value)])),
    h('pre', { class: 'mono' }, request.body),
  );
}

/** The account's inboxes and, for the chosen one, the requests as they arrive (newest first). */
export async function inboxPage(view, { signal }) {
  const status = h('div', { 'aria-live': 'polite' });
  const inboxList = h('div');
  const requests = h('div', { 'aria-live': 'polite' });
  let chosen = null;
  let timer = null;
  signal.addEventListener('abort', () => clearTimeout(timer));

  async function showRequests() {
    clearTimeout(timer);
    if (!chosen || signal.aborted) return;
    try {
      const page = await api(`/api/v1/inbox/${encodeURIComponent(chosen.inboxId)}/requests?limit=50`, { signal });
      fill(
        requests,
        h('h2', {}, 'Requests received'),
        h('p', { class: 'muted' }, 'At ', h('code', {}, chosen.url), ' (refreshed every 2 s).'),
        page.requests.length ? page.requests.map(requestItem) : message('info', 'Nothing has arrived yet. Use this URL as a callBackUrl.'),
      );
    } catch (error) {
      if (!signal.aborted) fill(requests, errorMessage(error, 'The requests could not be read'));
    }
    timer = setTimeout(showRequests, REFRESH_MS);
  }

  async function showInboxes() {
    const { inboxes } = await api('/api/v1/inbox', { signal });
    if (chosen && !inboxes.some((inbox) => inbox.inboxId === chosen.inboxId)) chosen = null;
    chosen = chosen ?? inboxes[0] ?? null;
    fill(
      inboxList,
      inboxes.length
        ? h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['URL', 'Created', 'Received', ''].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              inboxes.map((inbox) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('code', {}, inbox.url)),
                  h('td', {}, formatTime(inbox.createdAt)),
                  h('td', {}, String(inbox.received)),
                  h(
                    'td',
                    {},
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary',
                        'aria-pressed': String(inbox.inboxId === chosen?.inboxId),
                        onclick: () => {
                          chosen = inbox;
                          showInboxes().catch(() => {});
                        },
                      },
                      'Show requests',
                    ),
                    ' ',
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        'aria-label': `Delete the inbox ${inbox.url}`,
                        onclick: async () => {
                          try {
                            await api(`/api/v1/inbox/${encodeURIComponent(inbox.inboxId)}`, { method: 'DELETE', signal });
                            fill(status, message('ok', 'Inbox deleted.'));
                            await showInboxes();
                          } catch (error) {
                            fill(status, errorMessage(error, 'The inbox could not be deleted'));
                          }
                        },
                      },
                      'Delete',
                    ),
                  ),
                ),
              ),
            ),
          )
        : message('info', 'No inbox yet: create one and use its URL as a callBackUrl.'),
    );
    if (chosen) await showRequests();
    else fill(requests);
  }

  const create = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        try {
          const inbox = await api('/api/v1/inbox', { method: 'POST', signal });
          chosen = { ...inbox, received: 0 };
          fill(status, message('ok', `Inbox created: ${inbox.url}`));
          await showInboxes();
        } catch (error) {
          fill(status, errorMessage(error, 'No inbox could be created'));
        }
      },
    },
    'Create an inbox',
  );

  fill(
    view,
    h('h1', {}, 'Inbox'),
    h('p', {}, 'An inbox records every callback sent to its URL, signed as any receiver gets it, without running a receiver.'),
    h('p', {}, create),
    status,
    inboxList,
    requests,
  );
  await showInboxes();
}
