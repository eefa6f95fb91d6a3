import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { sineWav } from '../helpers/audio.js';
import { type StartOutcome, startOrExit, stopGracefully } from '../helpers/fleet.js';
import { freePort, runCli } from '../helpers/process.js';
import type { Json } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

/** The line a process refused for `differences` ends with, as the CLI prints it. */
const refusal = (differences: string, assignments: string): string =>
  `reprise: settings differ from the fleet's, recorded in the store: ${differences}. ` +
  `Start this process with the fleet's values, or first make its values the fleet's: reprise fleet-config set ${assignments}\n`;

/**
 * One configuration for the fleet (docs/configuration.md#fleet-wide-settings), with real processes:
 * the first to start records the fleet-wide settings, a later one with other values is refused at
 * start with exit code 78 and one line, `reprise fleet-config set` changes them on purpose.
 */
describe.each(storeTargets())('one configuration for the fleet on $name', (target) => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  /** Starts a process that must become ready. */
  const started = async (outcome: Promise<StartOutcome>): Promise<ChildProcess> => {
    const result = await outcome;
    if (!result.ready) throw new Error(`exited with ${result.code}: ${result.stderr}`);
    children.push(result.child);
    return result.child;
  };
  const fleetOf = async (env: Record<string, string>): Promise<Json> => {
    const shown = await runCli(['fleet-config', 'show'], env);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(shown.stdout);
  };
  const freshEnv = async (label: string) => ({
    REPRISE_DATA_DIR: tempDir(label),
    DATABASE_URL: await target.fresh(),
    // Nothing is rendered here: no render threads to start.
    REPRISE_WORKERS: '0',
    LOG_LEVEL: 'error',
  });

  it('records the first process’s values, starts an equal one, refuses other prices or rate limits, and changes them by `fleet-config set`', {
    timeout: 120_000,
  }, async () => {
    const env = { ...(await freshEnv('fleet')), REPRISE_PRICE_GENERATE: '12', REPRISE_RATE_LIMIT: '40/10s' };
    const first = await started(startOrExit('serve', env, await freePort()));

    const recorded = await fleetOf(env);
    expect(recorded).toMatchObject({ revision: 1, updatedBy: expect.stringMatching(/^reprise api,worker,dispatcher, pid \d+ on /), differences: [] });
    expect(recorded.settings).toMatchObject({ REPRISE_PRICE_GENERATE: '12', REPRISE_RATE_LIMIT: '40/10s', REPRISE_REFUNDS: 'true' });
    // No process set a public URL: none is recorded, each names itself.
    expect(recorded.settings.REPRISE_PUBLIC_URL).toBeUndefined();

    // The same fleet-wide values (another role, port and worker count are this process's own): it starts.
    const second = await started(startOrExit('api', { ...env, REPRISE_WORKERS: '3' }, await freePort()));

    // Another price: refused, naming it, with both values and the way to change the fleet's.
    const otherPrice = await runCli(['serve'], { ...env, REPRISE_PRICE_GENERATE: '15', PORT: String(await freePort()) });
    expect(otherPrice).toEqual({
      code: 78,
      stdout: '',
      stderr: refusal('REPRISE_PRICE_GENERATE is 15 here, 12 in the fleet', 'REPRISE_PRICE_GENERATE=15'),
    });
    // The rate limit left unset is its default, which is not the fleet's.
    const { REPRISE_RATE_LIMIT: _unset, ...withoutRateLimit } = env;
    const defaultRateLimit = await runCli(['worker'], { ...withoutRateLimit, PORT: String(await freePort()) });
    expect(defaultRateLimit).toEqual({
      code: 78,
      stdout: '',
      stderr: refusal('REPRISE_RATE_LIMIT is 20/10s (the default) here, 40/10s in the fleet', 'REPRISE_RATE_LIMIT=20/10s'),
    });
    // `show` tells the same before anything is started.
    expect((await fleetOf({ ...env, REPRISE_PRICE_GENERATE: '15' })).differences).toEqual([{ variable: 'REPRISE_PRICE_GENERATE', here: '15', fleet: '12' }]);

    const set = await runCli(['fleet-config', 'set', 'REPRISE_PRICE_GENERATE=15'], env);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      revision: 2,
      changed: [{ variable: 'REPRISE_PRICE_GENERATE', from: '12', to: '15' }],
      settings: { REPRISE_PRICE_GENERATE: '15', REPRISE_RATE_LIMIT: '40/10s' },
    });
    expect(await fleetOf(env)).toMatchObject({ revision: 2, updatedBy: expect.stringMatching(/^reprise fleet-config set on /) });
    // Now the new value starts, and the old one is refused.
    const third = await started(startOrExit('serve', { ...env, REPRISE_PRICE_GENERATE: '15' }, await freePort()));
    const oldPrice = await runCli(['serve'], { ...env, PORT: String(await freePort()) });
    expect(oldPrice).toMatchObject({ code: 78, stderr: refusal('REPRISE_PRICE_GENERATE is 12 here, 15 in the fleet', 'REPRISE_PRICE_GENERATE=12') });

    // `set` checks what it is given as start-up does.
    expect(await runCli(['fleet-config', 'set', 'REPRISE_RATE_LIMIT=lots'], env)).toMatchObject({
      code: 78,
      stderr: expect.stringContaining('REPRISE_RATE_LIMIT="lots" is not valid'),
    });
    expect(await runCli(['fleet-config', 'set', 'REPRISE_WORKERS=4'], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('REPRISE_WORKERS is not a fleet-wide setting'),
    });
    expect(await Promise.all([first, second, third].map(stopGracefully))).toEqual([0, 0, 0]);
  });

  it('gives the fleet’s public URL to a process that sets none: a file uploaded through it is served at the fleet’s address', {
    timeout: 90_000,
  }, async () => {
    const env = await freshEnv('fleet-url');
    const created = await runCli(['accounts', 'create', '--name', 'fleet', '--credits', '10'], env);
    expect(created.code).toBe(0);
    const { apiKey } = JSON.parse(created.stdout) as { apiKey: string };
    // The first process stands for the load balancer: its address is the fleet's URL.
    const frontPort = await freePort();
    const fleetUrl = `http://127.0.0.1:${frontPort}`;
    const front = await started(startOrExit('serve', { ...env, REPRISE_PUBLIC_URL: fleetUrl }, frontPort));
    expect((await fleetOf(env)).settings.REPRISE_PUBLIC_URL).toBe(fleetUrl);

    const otherPort = await freePort();
    const other = await started(startOrExit('api', env, otherPort));
    const wav = sineWav(1, 22_050, 1);
    const uploaded = await fetch(`http://127.0.0.1:${otherPort}/api/file-base64-upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ base64Data: wav.toString('base64'), uploadPath: 'fleet', fileName: 'tone.wav' }),
    });
    const { data } = (await uploaded.json()) as Json;
    expect(data.downloadUrl.startsWith(`${fleetUrl}/`)).toBe(true);
    const served = await fetch(data.downloadUrl);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(wav)).toBe(true);

    // A process that names another URL is refused: its URLs would differ from the fleet's.
    const elsewhere = await runCli(['serve'], { ...env, REPRISE_PUBLIC_URL: 'http://127.0.0.1:9', PORT: String(await freePort()) });
    expect(elsewhere).toMatchObject({
      code: 78,
      stderr: refusal(`REPRISE_PUBLIC_URL is http://127.0.0.1:9 here, ${fleetUrl} in the fleet`, 'REPRISE_PUBLIC_URL=http://127.0.0.1:9'),
    });
    expect(await Promise.all([front, other].map(stopGracefully))).toEqual([0, 0]);
  });

  it('lets exactly one of two processes starting at once on an empty store record its values', { timeout: 90_000 }, async () => {
    const env = await freshEnv('fleet-race');
    const prices = ['11', '12'] as const;
    const outcomes = await Promise.all(prices.map(async (price) => startOrExit('serve', { ...env, REPRISE_PRICE_GENERATE: price }, await freePort())));
    const winners = outcomes.flatMap((outcome, index) => (outcome.ready ? [{ child: outcome.child, price: prices[index]! }] : []));
    const losers = outcomes.flatMap((outcome, index) => (outcome.ready ? [] : [{ ...outcome, price: prices[index]! }]));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const [winner, loser] = [winners[0]!, losers[0]!];
    children.push(winner.child);
    expect(loser.code).toBe(78);
    expect(loser.stderr).toBe(refusal(`REPRISE_PRICE_GENERATE is ${loser.price} here, ${winner.price} in the fleet`, `REPRISE_PRICE_GENERATE=${loser.price}`));
    expect(await fleetOf(env)).toMatchObject({ revision: 1, settings: { REPRISE_PRICE_GENERATE: winner.price } });
    expect(await stopGracefully(winner.child)).toBe(0);
  });
});
