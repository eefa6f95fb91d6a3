import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookKey } from '../../src/accounts/index.js';
import { kieSignature, signatureHeaders } from '../../src/callbacks/index.js';

/** KIE's verification guide, as a receiver implements it. */
function kieVerify(secret: string, body: string, headers: Record<string, string>): boolean {
  const taskId = (JSON.parse(body) as { data: { task_id: string } }).data.task_id;
  const expected = createHmac('sha256', secret).update(`${taskId}.${headers['x-webhook-timestamp']}`).digest('base64');
  return expected === headers['x-webhook-signature'];
}

const body = JSON.stringify({ code: 200, msg: 'All generated successfully.', data: { callbackType: 'complete', task_id: 'ab'.repeat(16), data: [] } });

describe('callback signatures', () => {
  it('KIE signature verifies with the algorithm of KIE’s guide', () => {
    const secret = newWebhookKey();
    const headers = signatureHeaders([secret], { id: 'msg_1', taskId: 'ab'.repeat(16), body, timestamp: Date.now() });
    expect(kieVerify(secret, body, headers)).toBe(true);
    expect(kieVerify(newWebhookKey(), body, headers)).toBe(false);
    expect(headers['x-webhook-signature']).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(headers['x-webhook-timestamp']).toMatch(/^\d{10}$/);
  });

  it('Standard Webhooks signature verifies with the official library', () => {
    const secret = newWebhookKey();
    const headers = signatureHeaders([secret], { id: 'msg_2', taskId: 'ab'.repeat(16), body, timestamp: Date.now() });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
    expect(() => new Webhook(newWebhookKey()).verify(body, headers)).toThrow();
  });

  it('signs with both keys during a rotation; either verifies', () => {
    const [next, previous] = [newWebhookKey(), newWebhookKey()];
    const headers = signatureHeaders([next, previous], { id: 'msg_3', taskId: 'ab'.repeat(16), body, timestamp: Date.now() });
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(next).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
    expect(kieVerify(next, body, headers)).toBe(true);
  });

  it('sends only the delivery id for accounts without a key', () => {
    expect(signatureHeaders([], { id: 'msg_4', taskId: 't', body, timestamp: Date.now() })).toEqual({ 'webhook-id': 'msg_4' });
  });

  it('property: the library verifies any body and id we sign', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.stringMatching(/^msg_[a-z0-9]{1,20}$/), (text, id) => {
        const secret = `whsec_${randomBytes(32).toString('base64')}`;
        const payload = JSON.stringify({ code: 200, data: { task_id: 'x', text } });
        const headers = signatureHeaders([secret], { id, taskId: 'x', body: payload, timestamp: Date.now() });
        expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
        expect(kieSignature(secret, 'x', headers['x-webhook-timestamp']!)).toBe(headers['x-webhook-signature']);
      }),
      { numRuns: 200 },
    );
  });
});
