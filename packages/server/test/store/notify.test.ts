import { describe, expect, it } from 'vitest';
import { createNotifier, type WakeChannel } from '../../src/store/notify.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

const postgres = storeTargets().find((target) => target.name === 'postgres');

describe.skipIf(!postgres)('the LISTEN/NOTIFY notifier', () => {
  it('listens on channels asked for in one tick, while its connection is still opening, one statement at a time', async () => {
    const url = await postgres!.fresh();
    const services = await createTestServices({ ...postgres!, fresh: async () => url });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    const notifier = createNotifier(services.store, { databaseUrl: url, onError: (error) => warnings.push(String(error)) });
    try {
      const channels: WakeChannel[] = ['reprise_keys', 'reprise_tasks', 'reprise_callbacks'];
      const heard = new Map<WakeChannel, number>(channels.map((channel) => [channel, 0]));
      // As a process starting with every role does: three channels before the connection is up.
      for (const channel of channels) notifier.listen(channel, () => heard.set(channel, (heard.get(channel) ?? 0) + 1));
      await waitFor(
        async () => {
          for (const channel of channels) if (heard.get(channel) === 0) notifier.notify(channel);
          await new Promise((resolve) => setTimeout(resolve, 50));
          return channels.every((channel) => (heard.get(channel) ?? 0) > 0) ? true : undefined;
        },
        10_000,
        'every channel to be heard',
      );
      // pg warns when a second query is sent on a client still busy with one.
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await notifier.close();
      await closeServices(services);
    }
  });
});
