// Every call the console makes goes through here: the same routes, keys and validation as any
// client. The key lives in sessionStorage only, so it is gone when the tab closes.

const KEY_NAME = 'reprise.apiKey';

export const credentials = {
  key: () => sessionStorage.getItem(KEY_NAME),
  signIn: (key) => sessionStorage.setItem(KEY_NAME, key),
  signOut: () => sessionStorage.removeItem(KEY_NAME),
};

/** A refusal as the API phrased it: `code` and `msg` of the KIE envelope. */
export class ApiFailure extends Error {
  constructor(code, msg) {
    super(msg);
    this.code = code;
  }
}

/** Listeners told when the key stops being accepted (revoked in another tab, say). */
const unauthorizedListeners = new Set();
export const onUnauthorized = (listener) => unauthorizedListeners.add(listener);

function headers(extra = {}) {
  const key = credentials.key();
  return key ? { authorization: `Bearer ${key}`, ...extra } : extra;
}

/** Reads the envelope; the outcome is in `code` (KIE answers most refusals with HTTP 200). */
async function envelopeOf(response) {
  const text = await response.text();
  let envelope;
  try {
    envelope = JSON.parse(text);
  } catch {
    throw new ApiFailure(response.status, `The server answered HTTP ${response.status} without a JSON body${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
  const code = typeof envelope.code === 'number' ? envelope.code : response.status;
  if (code === 401 || response.status === 401) {
    for (const listener of unauthorizedListeners) listener();
    throw new ApiFailure(401, envelope.msg || 'This API key is not accepted');
  }
  if (code !== 200 || !response.ok) {
    throw new ApiFailure(code, envelope.msg || `HTTP ${response.status}`);
  }
  return envelope.data;
}

/** A JSON API call; resolves to the envelope's `data`, rejects with an ApiFailure. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiFailure(0, `The server could not be reached (${error.message})`);
  }
  if (response.status === 404 && !(response.headers.get('content-type') ?? '').includes('json')) {
    throw new ApiFailure(404, `${method} ${path.split('?')[0]}: this server does not offer that route`);
  }
  return envelopeOf(response);
}

/** Uploads a file as `POST /api/file-stream-upload` does for any client; resolves to its `data`. */
export async function uploadFile(file, uploadPath = 'console') {
  const form = new FormData();
  form.append('file', file, file.name);
  form.append('uploadPath', uploadPath);
  let response;
  try {
    response = await fetch('/api/file-stream-upload', { method: 'POST', headers: headers(), body: form });
  } catch (error) {
    throw new ApiFailure(0, `The upload could not reach the server (${error.message})`);
  }
  return envelopeOf(response);
}

/**
 * Server-Sent Events with the key in a header (EventSource cannot send one): a streamed fetch,
 * parsed by hand, reconnecting with a growing pause until `signal` aborts. `onState` hears
 * "live" / "reconnecting" / a final ApiFailure (a refusal is not retried).
 */
export function streamEvents(path, onEvent, { signal, onState = () => {} } = {}) {
  let pauseMs = 1000;
  const run = async () => {
    while (!signal.aborted) {
      try {
        const response = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal });
        if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
          await envelopeOf(response);
          throw new ApiFailure(response.status, `${path}: the server did not answer with an event stream`);
        }
        onState('live');
        pauseMs = 1000;
        await readEvents(response.body, onEvent);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiFailure && error.code !== 0 && error.code < 500) {
          onState(error);
          return;
        }
      }
      if (signal.aborted) return;
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, 15_000);
    }
  };
  run();
}

async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, '\n');
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      try {
        onEvent(event, JSON.parse(data.join('\n')));
      } catch {
        // A malformed event is skipped; the next status change carries the whole state again.
      }
    }
  }
}
