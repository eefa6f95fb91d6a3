import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { uploadedWav } from '../helpers/fixtures.js';
import { closeServices, createTestAccount, createTestApp, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

/**
 * An event stream of a task that is still running must not hold a stopping server open:
 * app.close() ends the stream (the client sees it end) instead of waiting for the client.
 */
it('a stopping server ends the event streams of unfinished tasks', async () => {
  const [target] = storeTargets();
  const services = await createTestServices(target!);
  const app = await createTestApp(services);
  try {
    const alice = await createTestAccount(services, 100);
    const uploadUrl = await uploadedWav(services, alice.account.id, 60);
    const submitted = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      payload: { uploadUrl, prompt: 'jazz piano', tags: 'Jazz', title: 'New', infillStartS: 12, infillEndS: 24 },
    });
    const taskId = (submitted.json() as { data: { taskId: string } }).data.taskId;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/tasks/${taskId}/events`, { headers: alice.auth });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    // The stream opens with the task's current status; no worker runs, so it stays pending.
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('"status":"PENDING"');

    await app.close();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).not.toContain('"status":"SUCCESS"');
  } finally {
    await app.close();
    await closeServices(services);
  }
});
