import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, kill, runCli, startServe } from '../helpers/process.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

/** The admin commands of SPEC §7: one JSON object on stdout, usable while the server runs. */
describe.each(storeTargets())('admin CLI on $name', (target) => {
  let env: Record<string, string>;
  let server: ChildProcess;
  let base: string;

  beforeAll(async () => {
    env = { REPRISE_DATA_DIR: tempDir('cli'), DATABASE_URL: await target.fresh(), LOG_LEVEL: 'error', REPRISE_WORKERS: '0' };
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startServe(env, port);
  });
  afterAll(async () => kill(server, 'SIGTERM'));

  const json = async (args: string[]) => {
    const result = await runCli(args, env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    return JSON.parse(result.stdout);
  };
  const credits = async (apiKey: string) =>
    (await (await fetch(`${base}/api/v1/chat/credit`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { code: number; data: number };

  it('creates accounts, grants credits, creates and revokes keys, rotates webhook keys', async () => {
    const account = await json(['accounts', 'create', '--name', 'team', '--credits', '7']);
    expect(Object.keys(account)).toEqual(['accountId', 'apiKey', 'credits', 'webhookHmacKey']);
    expect(account).toMatchObject({ credits: 7, webhookHmacKey: null });
    expect(await credits(account.apiKey)).toEqual({ code: 200, msg: 'success', data: 7 });

    expect(await json(['credits', 'grant', '--account', account.accountId, '--amount', '5'])).toEqual({ accountId: account.accountId, credits: 12 });
    expect((await credits(account.apiKey)).data).toBe(12);

    const key = await json(['keys', 'create', '--account', account.accountId]);
    expect(key).toEqual({ accountId: account.accountId, apiKey: expect.stringMatching(/^rk_[0-9a-f]{40}$/) });
    expect(await json(['keys', 'revoke', '--key-prefix', account.apiKey.slice(0, 12)])).toEqual({ revoked: 1 });
    expect((await credits(account.apiKey)).code).toBe(401);
    expect((await credits(key.apiKey)).data).toBe(12);

    const rotated = await json(['webhook-key', 'rotate', '--account', account.accountId, '--overlap-hours', '2']);
    expect(rotated).toEqual({ accountId: account.accountId, webhookHmacKey: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
    const withKey = await json(['accounts', 'create', '--name', 'hooks', '--webhook-key']);
    expect(withKey.webhookHmacKey).toMatch(/^whsec_/);
  });

  it('refuses bad arguments with a clear message on stderr and nothing on stdout', async () => {
    for (const [args, message] of [
      [['accounts', 'create'], '--name is required'],
      [['accounts', 'create', '--name', 'x', '--credits', '3.5'], '--credits must be a whole number ≥ 0, got "3.5"'],
      [['credits', 'grant', '--account', 'acct_nope', '--amount', '5'], 'account acct_nope does not exist'],
      [['keys', 'revoke', '--key-prefix', 'rk'], 'key-prefix: give at least 6 characters of the key'],
      [['frobnicate', 'now'], 'unknown command "frobnicate now"'],
      [['accounts', 'create', '--nme', 'x'], "Unknown option '--nme'"],
    ] as const) {
      const result = await runCli([...args], env);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(message);
    }
  });

  it('stops on a wrong configuration value with one line naming it', async () => {
    const result = await runCli(['accounts', 'create', '--name', 'x'], { ...env, REPRISE_RATE_LIMIT: 'lots' });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('reprise: REPRISE_RATE_LIMIT="lots" is not valid: expected COUNT/WINDOW, e.g. 20/10s (units ms, s, m, h; count ≥ 1)\n');
  });
});
