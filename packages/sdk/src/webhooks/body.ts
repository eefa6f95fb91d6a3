import { WebhookVerificationError } from '../errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The body's JSON, with a typed error instead of a SyntaxError. Bytes must be
 * valid UTF-8 (RFC 8259). An empty body is `undefined` when `emptyAllowed`,
 * as in the official library.
 */
export function parseJsonBody(body: string | Uint8Array, emptyAllowed: boolean): unknown {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = decoder.decode(body);
    } catch {
      throw new WebhookVerificationError('invalid_json', 'the body is not valid UTF-8');
    }
  }
  if (text === '' && emptyAllowed) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new WebhookVerificationError('invalid_json', `the body is not JSON (${(error as Error).message})`);
  }
}
