/**
 * An Express app that receives reprise (or KIE.AI) callbacks, verified and
 * deduplicated, and answers at once.
 *
 *   REPRISE_WEBHOOK_SECRET=whsec_… PORT=3001 npx tsx examples/express-receiver.ts
 *
 * Give the server `callBackUrl: "https://your.host/reprise/callback"`.
 */
import { fileURLToPath } from 'node:url';
import { type CallbackEvent, createCallbackHandler, toExpressMiddleware } from '@reprise/sdk';
import express from 'express';

export function createApp(secret: string, save: (event: CallbackEvent) => void | Promise<void>): express.Express {
  const app = express();
  const callbacks = createCallbackHandler({
    secret, // the account's webhookHmacKey
    onComplete: (event) => save(event), // runs once per task, after the 200 has gone out
    onError: (event) => save(event),
    onHandlerError: (error, event) => console.error(`could not save task ${event.taskId}; redeliver it once fixed:`, error),
  });
  // Mounted before express.json(): the signature covers the raw bytes.
  app.post('/reprise/callback', toExpressMiddleware(callbacks));

  app.use(express.json());
  // … the rest of your app.
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const secret = process.env.REPRISE_WEBHOOK_SECRET;
  if (!secret) throw new Error("set REPRISE_WEBHOOK_SECRET to the account's webhookHmacKey");
  const port = Number(process.env.PORT ?? 3001);
  const app = createApp(secret, (event) => {
    if (event.stage === 'error') console.log(`task ${event.taskId} failed (${event.code}): ${event.error}`);
    else console.log(`task ${event.taskId} done: ${event.tracks.map((track) => track.audioUrl).join(', ')}`);
  });
  app.listen(port, () => console.log(`receiving callbacks on http://127.0.0.1:${port}/reprise/callback`));
}
