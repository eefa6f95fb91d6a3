import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/process.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

/** `reprise accounts create --sandbox` and `reprise sandbox set|show`, as an operator runs them (the built CLI). */
describe.each(storeTargets())('sandbox commands on $name', (target) => {
  it('creates a sandbox account and sets and shows its scenario queue', async () => {
    const env = { REPRISE_DATA_DIR: tempDir('sandbox-cli'), DATABASE_URL: await target.fresh(), LOG_LEVEL: 'silent' };
    const created = await runCli(['accounts', 'create', '--name', 'rehearsal', '--credits', '50', '--sandbox'], env);
    expect(created.code).toBe(0);
    const account = JSON.parse(created.stdout) as { accountId: string; credits: number; sandbox: boolean };
    expect(account).toMatchObject({ credits: 50, sandbox: true });

    const scenarios = [
      { outcome: 'fail', failCode: 531 },
      { outcome: 'succeed', delayMs: 1000, callbackFailures: 2 },
    ];
    const set = await runCli(['sandbox', 'set', '--account', account.accountId, '--json', JSON.stringify(scenarios)], env);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ accountId: account.accountId, scenarios });
    const shown = await runCli(['sandbox', 'show', '--account', account.accountId], env);
    expect(JSON.parse(shown.stdout)).toEqual({ accountId: account.accountId, scenarios });

    // The API's body form is accepted too; a bad scenario is refused with its precise message and changes nothing.
    const bad = await runCli(['sandbox', 'set', '--account', account.accountId, '--json', '{"scenarios":[{"outcome":"fail"}]}'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('scenarios[0].failCode: is required when outcome is "fail"');
    const notJson = await runCli(['sandbox', 'set', '--account', account.accountId, '--json', '[{'], env);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('--json is not valid JSON');
    expect(JSON.parse((await runCli(['sandbox', 'show', '--account', account.accountId], env)).stdout).scenarios).toEqual(scenarios);

    const plain = JSON.parse((await runCli(['accounts', 'create', '--name', 'real'], env)).stdout) as { accountId: string; sandbox?: boolean };
    expect(plain.sandbox).toBeUndefined();
    const refused = await runCli(['sandbox', 'show', '--account', plain.accountId], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('sandbox: this account is not a sandbox account');
  });
});
