import pg from 'pg';
import type { Store } from './db.js';

/**
 * Wake-ups across processes on PostgreSQL (LISTEN/NOTIFY): a process that records work others
 * claim (a submitted task, a callback owed) notifies a channel, and the workers and dispatchers of
 * every process listen on a dedicated connection and wake at once. Polling stays the fallback: a
 * notification lost while the listener reconnects only means the work waits for the next poll.
 * SQLite serves one host's processes, whose in-process events already wake them: nothing here.
 */
/** `reprise_keys`: an API key was revoked; processes that remember keys forget them (accounts/key-cache.ts). */
export type WakeChannel = 'reprise_tasks' | 'reprise_callbacks' | 'reprise_keys';

export interface Notifier {
  /** Tells every listening process; notifications asked for in the same tick go as one. */
  notify(channel: WakeChannel): void;
  /** Calls `onWake` whenever any process notifies `channel` (this one included). */
  listen(channel: WakeChannel, onWake: () => void): void;
  close(): Promise<void>;
}

export interface NotifierOptions {
  /** The database URL the listening connection opens (the store's pool cannot hold one for good). */
  databaseUrl: string;
  onError: (error: unknown, what: string) => void;
  /** Wait before reconnecting a dropped listener. */
  reconnectMs?: number;
}

/** A notifier for the store: the real one on PostgreSQL, one that does nothing on SQLite. */
export function createNotifier(store: Store, options: NotifierOptions): Notifier {
  if (store.dialect !== 'postgres') return { notify() {}, listen() {}, close: async () => {} };
  const reconnectMs = options.reconnectMs ?? 1000;
  const handlers = new Map<string, Array<() => void>>();
  const queued = new Set<WakeChannel>();
  let client: pg.Client | null = null;
  /**
   * The listener's statements, one after another: pg runs one query at a time per connection, and
   * a channel added while the connection is still being set up must wait for it.
   */
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  async function connect(): Promise<void> {
    if (closed || handlers.size === 0 || client) return;
    const next = new pg.Client({ connectionString: options.databaseUrl });
    client = next;
    const dropped = (error?: unknown): void => {
      if (client !== next) return;
      client = null;
      next.removeAllListeners();
      next.end().catch(() => {});
      if (closed) return;
      if (error) options.onError(error, 'the LISTEN connection dropped; reconnecting');
      retry = setTimeout(() => {
        retry = null;
        connect().catch(() => {});
      }, reconnectMs);
      retry.unref();
      // Whatever was notified while nobody listened: look now rather than at the next poll.
      for (const list of handlers.values()) for (const handler of list) handler();
    };
    next.on('error', dropped);
    next.on('end', () => dropped(new Error('connection ended')));
    next.on('notification', (message) => {
      for (const handler of handlers.get(message.channel) ?? []) handler();
    });
    // The channels known now; one added later queues its own LISTEN behind these.
    const channels = [...handlers.keys()];
    const setup = (async () => {
      await next.connect();
      for (const channel of channels) await next.query(`listen ${channel}`);
    })();
    queue = setup.catch(() => {});
    try {
      await setup;
    } catch (error) {
      dropped(error);
    }
  }

  return {
    notify(channel) {
      if (queued.has(channel)) return;
      queued.add(channel);
      setImmediate(() => {
        queued.delete(channel);
        store.db
          .selectNoFrom((eb) => eb.fn<string>('pg_notify', [eb.val(channel), eb.val('')]).as('sent'))
          .execute()
          .catch((error: unknown) => options.onError(error, 'NOTIFY failed; listeners find the work at their next poll'));
      });
    },
    listen(channel, onWake) {
      const list = handlers.get(channel);
      if (list) {
        list.push(onWake);
        return;
      }
      handlers.set(channel, [onWake]);
      const current = client;
      if (current) {
        queue = queue
          .then(() => (client === current ? current.query(`listen ${channel}`) : undefined))
          .catch((error: unknown) => options.onError(error, 'LISTEN failed'));
      } else {
        connect().catch(() => {});
      }
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = null;
      if (current) {
        current.removeAllListeners();
        await current.end().catch(() => {});
      }
    },
  };
}
