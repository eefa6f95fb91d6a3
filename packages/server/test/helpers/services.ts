import { type Account, createAccount, findAccountByKey } from '../../src/accounts/index.js';
import { buildApp } from '../../src/api/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createServices } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { type StoreTarget, tempDir } from './stores.js';

export const TEST_PUBLIC_URL = 'http://127.0.0.1:3999';

/** A complete service (store, blobs, outbound client) on a fresh database, for in-process tests. */
export async function createTestServices(target: StoreTarget, env: Record<string, string> = {}): Promise<Services> {
  const config: Config = loadConfig({
    REPRISE_DATA_DIR: tempDir('data'),
    DATABASE_URL: await target.fresh(),
    REPRISE_PUBLIC_URL: TEST_PUBLIC_URL,
    LOG_LEVEL: 'silent',
    ...env,
  });
  return createServices(config);
}

export async function createTestApp(services: Services) {
  return buildApp(services, { logger: false });
}

export interface TestAccount {
  account: Account;
  apiKey: string;
  auth: { authorization: string };
}

export async function createTestAccount(services: Services, credits = 100, webhookKey = false): Promise<TestAccount> {
  const created = await createAccount(services.store.db, { name: 'test', credits, webhookKey });
  const account = await findAccountByKey(services.store.db, created.apiKey);
  if (!account) throw new Error('account not found after creation');
  return { account, apiKey: created.apiKey, auth: { authorization: `Bearer ${created.apiKey}` } };
}

export async function closeServices(services: Services): Promise<void> {
  await services.outbound.close();
  await services.store.close();
}

/** Rows in `table` over the whole database: what a refused or replayed request must leave as it was. */
export async function countRows(services: Services, table: 'tasks' | 'jobs' | 'ledger' | 'files' | 'personas' | 'idempotency_keys'): Promise<number> {
  const row = await services.store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
