import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Account, authenticatedAccount } from '../accounts/index.js';
import { unauthorized } from '../errors.js';
import type { Services } from '../services.js';

declare module 'fastify' {
  interface FastifyRequest {
    account: Account | null;
  }
}

/** `Authorization: Bearer <key>` → the account, or 401 in KIE's words (SPEC §1). */
export function authenticate(services: Services) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const account = await authenticatedAccount(services.store.reader, bearerKey(request));
    if (!account) throw unauthorized();
    request.account = account;
  };
}

/** The key of `Authorization: Bearer <key>`, or 401. */
export function bearerKey(request: FastifyRequest): string {
  const key = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!key) throw unauthorized();
  return key;
}

/** The authenticated account; routes behind `authenticate` always have one. */
export function accountOf(request: FastifyRequest): Account {
  if (!request.account) throw unauthorized();
  return request.account;
}
