import { ApiFailure, api } from '../api.js';
import { badge, errorMessage, facts, fill, formatTime, h, message, verifiedBadge } from '../dom.js';

const EXCERPT_CHARS = 400;

/**
 * The requests an inbox recorded for this delivery (matched by `webhook-id`), when the callback
 * went to one of the account's inboxes: there the signatures were also checked on arrival.
 */
async function recordedHeaders(deliveryId, url, signal) {
  try {
    const { inboxes } = await api('/api/v1/inbox', { signal });
    const inbox = inboxes.find((candidate) => candidate.url === url);
    if (!inbox) return null;
    const { requests } = await api(`/api/v1/inbox/${encodeURIComponent(inbox.inboxId)}/requests?limit=100`, { signal });
    return requests.filter((request) => request.headers['webhook-id'] === deliveryId);
  } catch {
    return null;
  }
}

function attemptItem(attempt, index) {
  const good = attempt.httpStatus !== null && attempt.httpStatus >= 200 && attempt.httpStatus < 300;
  const excerpt = attempt.responseBody ? attempt.responseBody.slice(0, EXCERPT_CHARS) : '';
  return h(
    'li',
    { class: good ? 'good' : 'bad' },
    h('strong', {}, `Attempt ${index + 1}`),
    ' · ',
    formatTime(attempt.startedAt),
    ' · ',
    attempt.httpStatus === null ? badge('no answer', 'no') : badge(`HTTP ${attempt.httpStatus}`, good ? 'yes' : 'no'),
    ' · ',
    `${attempt.durationMs ?? '—'} ms`,
    attempt.errorClass ? [' · error: ', h('code', {}, attempt.errorClass)] : null,
    excerpt ? h('div', {}, h('span', { class: 'muted' }, 'Response: '), h('code', {}, excerpt), attempt.responseBody.length > EXCERPT_CHARS ? '…' : '') : null,
    attempt.requestHeaders
      ? h(
          'details',
          {},
          h('summary', {}, 'Headers sent (signatures)'),
          facts(Object.entries(attempt.requestHeaders).map(([name, value]) => [name, h('code', {}, value)])),
        )
      : null,
  );
}

async function callbackSection(callback, signal) {
  const copies = await recordedHeaders(callback.deliveryId, callback.url, signal);
  const signatureRows = copies?.length
    ? copies.map((copy) =>
        h(
          'div',
          {},
          h('h4', {}, `As the inbox received it, ${formatTime(copy.at)}`),
          facts(Object.entries(copy.headers).map(([name, value]) => [name, h('code', {}, value)])),
          h('p', {}, 'KIE signature: ', verifiedBadge(copy.verified?.kie), ' · Standard Webhooks signature: ', verifiedBadge(copy.verified?.standardWebhooks)),
        ),
      )
    : h(
        'p',
        { class: 'muted' },
        'Every attempt is signed afresh (x-webhook-timestamp / x-webhook-signature, webhook-id / webhook-timestamp / webhook-signature) with the account’s webhook key: the headers each attempt was sent with are under it, above. Point callBackUrl at an inbox to also see them checked on arrival.',
      );
  return h(
    'section',
    { class: 'panel', 'data-delivery-id': callback.deliveryId },
    h('h2', {}, `Callback “${callback.stage}” `, badge(callback.status)),
    facts([
      ['To', h('code', {}, callback.url)],
      ['webhook-id', h('code', {}, callback.deliveryId)],
      ['Attempts', String(callback.attempts)],
      ['Created', formatTime(callback.createdAt)],
      ['Delivered', formatTime(callback.deliveredAt)],
      ['Last error', callback.lastError],
    ]),
    h('h3', {}, 'Attempts'),
    callback.attemptLog.length ? h('ol', { class: 'timeline' }, callback.attemptLog.map(attemptItem)) : h('p', { class: 'muted' }, 'No attempt yet.'),
    h('h3', {}, 'Signature headers'),
    signatureRows,
    h('h3', {}, 'Body'),
    h('p', { class: 'muted' }, 'The exact bytes POSTed on every attempt of this callback.'),
    h('pre', { class: 'mono' }, JSON.stringify(callback.payload)),
  );
}

/** Every callback of a task and every attempt, with a redeliver button. */
export async function deliveriesPage(view, { params: [taskId], signal }) {
  const status = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const path = `/api/v1/tasks/${encodeURIComponent(taskId)}/callbacks`;

  async function load() {
    const callbacks = await api(path, { signal });
    const sections = await Promise.all(callbacks.map((callback) => callbackSection(callback, signal)));
    fill(list, callbacks.length ? sections : message('info', 'This task has no callback yet: it has no callBackUrl, or no stage has finished.'));
    return callbacks;
  }

  const redeliver = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        redeliver.disabled = true;
        try {
          const before = (await api(path, { signal })).reduce((sum, callback) => sum + callback.attempts, 0);
          const { deliveryId } = await api(`${path}/redeliver`, { method: 'POST', signal });
          fill(status, message('ok', `Redelivery queued (webhook-id ${deliveryId}); its attempt appears below.`));
          // Show the new attempt when the dispatcher has made it (a few seconds at most, usually).
          for (let i = 0; i < 20 && !signal.aborted; i += 1) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            const callbacks = await load();
            if (callbacks.reduce((sum, callback) => sum + callback.attempts, 0) > before) break;
          }
        } catch (error) {
          if (!signal.aborted) fill(status, errorMessage(error, 'Redelivery refused'));
        } finally {
          redeliver.disabled = false;
        }
      },
    },
    'Redeliver the latest callback',
  );

  fill(
    view,
    h('p', {}, h('a', { href: `#/tasks/${encodeURIComponent(taskId)}` }, '← Task')),
    h('h1', {}, 'Deliveries of ', h('code', {}, taskId)),
    h('p', { class: 'row' }, redeliver, h('button', { type: 'button', class: 'secondary', onclick: () => load().catch(() => {}) }, 'Refresh')),
    status,
    list,
  );
  try {
    await load();
  } catch (error) {
    if (error instanceof ApiFailure && error.code === 404) {
      fill(list, message('error', `These deliveries cannot be shown: ${error.message}.`));
      redeliver.disabled = true;
    } else throw error;
  }
}
