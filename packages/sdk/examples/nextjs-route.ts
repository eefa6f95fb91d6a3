/**
 * A Next.js App Router route handler: save it as
 * `app/api/reprise/callback/route.ts` and set REPRISE_WEBHOOK_SECRET.
 * It uses only web Request/Response, so it also fits Hono, Bun or Deno.
 *
 * On serverless hosts pass `{ waitUntil: after }` (import { after } from
 * 'next/server') to toWebHandler, so the platform keeps the function alive
 * while your handler runs after the response.
 */
import { type CallbackHandler, createCallbackHandler, type SunoTrack, toWebHandler } from '@reprise/sdk';

/** Stands in for your database. */
export const results = new Map<string, { status: 'SUCCESS' | 'FAILED'; tracks: SunoTrack[]; error?: string }>();

let receive: ((request: Request) => Promise<Response>) | undefined;

/** Built on first use, so a build step that imports the module needs no secret. */
function receiver(): (request: Request) => Promise<Response> {
  if (!receive) {
    const handler: CallbackHandler = createCallbackHandler({
      secret: process.env.REPRISE_WEBHOOK_SECRET ?? '',
      onComplete: async (event) => {
        results.set(event.taskId, { status: 'SUCCESS', tracks: event.tracks });
      },
      onError: async (event) => {
        results.set(event.taskId, { status: 'FAILED', tracks: [], error: event.error });
      },
    });
    receive = toWebHandler(handler);
  }
  return receive;
}

// node:crypto is needed: keep this route on the Node.js runtime.
export const runtime = 'nodejs';

export async function POST(request: Request): Promise<Response> {
  return receiver()(request);
}
