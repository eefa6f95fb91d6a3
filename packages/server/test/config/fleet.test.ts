import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_PRICES, loadConfig } from '../../src/config.js';
import {
  defaultFleetSettings,
  FLEET_VARIABLES,
  type FleetSettings,
  fleetConflictMessage,
  fleetDifferences,
  fleetSettingsOf,
  joinFleet,
  readFleetRecord,
  setFleetSettings,
} from '../../src/fleet-config.js';
import { openStore, type Store } from '../../src/store/index.js';
import { storeTargets } from '../helpers/stores.js';

type Env = Record<string, string>;

const settingsOf = (env: Env): FleetSettings => fleetSettingsOf(loadConfig(env));
const differencesBetween = (here: Env, fleet: Env) => fleetDifferences(settingsOf(here), settingsOf(fleet));

const whole = (min: number, max: number) => fc.integer({ min, max }).map(String);
const trueOrFalse = fc.constantFrom('true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'TRUE', 'Off');

/** A valid value, as an operator could write it, for every fleet-wide variable. */
const VALID: Record<string, fc.Arbitrary<string>> = {
  REPRISE_PUBLIC_URL: fc
    .tuple(fc.constantFrom('http', 'https'), fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), fc.constantFrom('', '/', '/music'))
    .map(([scheme, host, port, path]) => `${scheme}://${host}${port === undefined ? '' : `:${port}`}${path}`),
  ...Object.fromEntries(FLEET_VARIABLES.filter((variable) => variable.startsWith('REPRISE_PRICE_')).map((variable) => [variable, whole(0, 1_000_000)])),
  REPRISE_RATE_LIMIT: fc
    .tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 120 }), fc.constantFrom('ms', 's', 'm', 'h'))
    .map(([count, window, unit]) => `${count}/${window}${unit}`),
  REPRISE_REFUNDS: trueOrFalse,
  REPRISE_CALLBACK_SCHEDULE: fc
    .array(fc.integer({ min: 0, max: 600_000 }), { minLength: 1, maxLength: 6 })
    .map((delays) => delays.map((ms) => ms / 1000).join(',')),
  REPRISE_CALLBACK_TIMEOUT_MS: whole(100, 600_000),
  REPRISE_TASK_TIMEOUT_S: whole(1, 86_400),
  REPRISE_GENERATE_DURATION_S: whole(10, 480),
  REPRISE_EXTEND_DURATION_S: whole(5, 480),
  REPRISE_RETENTION_DAYS: whole(1, 3650),
  REPRISE_UPLOAD_RETENTION_DAYS: whole(1, 3650),
  REPRISE_UPLOAD_MAX_BYTES: whole(1024, 2 ** 40),
  REPRISE_SOURCE_MAX_S: whole(1, 86_400),
  REPRISE_JSON_BODY_MAX_BYTES: whole(1024, 64 * 1024 * 1024),
  REPRISE_HTTP_STATUS_MIRRORS_CODE: trueOrFalse,
};

/** Some of the fleet-wide variables set, each to a valid value; the rest left unset. */
const fleetEnv: fc.Arbitrary<Env> = fc.record(VALID, { requiredKeys: [] }) as fc.Arbitrary<Env>;

describe('fleet-wide settings', () => {
  it('has a valid-value generator for every fleet-wide variable, and no other', () => {
    expect(Object.keys(VALID).sort()).toEqual([...FLEET_VARIABLES].sort());
  });

  it('records every fleet-wide setting, the public URL only when one is set', () => {
    expect(Object.keys(settingsOf({}))).toEqual(FLEET_VARIABLES.filter((variable) => variable !== 'REPRISE_PUBLIC_URL'));
    expect(settingsOf({}).REPRISE_RATE_LIMIT).toBe('20/10s');
    expect(settingsOf({}).REPRISE_CALLBACK_SCHEDULE).toBe('0,5,25');
    expect(settingsOf({ REPRISE_PUBLIC_URL: 'https://music.example.com/' }).REPRISE_PUBLIC_URL).toBe('https://music.example.com');
    expect(defaultFleetSettings()).toEqual(settingsOf({}));
  });

  it('names each price as config.ts reads it: one variable per price, each moving its own', () => {
    const priceVariables = FLEET_VARIABLES.filter((variable) => variable.startsWith('REPRISE_PRICE_'));
    expect(priceVariables).toHaveLength(Object.keys(DEFAULT_PRICES).length);
    const moved = priceVariables.map((variable) => {
      const prices = loadConfig({ [variable]: '777' }).prices;
      const changed = Object.entries(prices).filter(([, price]) => price === 777);
      expect(changed).toHaveLength(1);
      return changed[0]![0];
    });
    expect(new Set(moved).size).toBe(priceVariables.length);
  });

  it('compares effective values: an unset variable is its default, equal spellings agree', () => {
    expect(differencesBetween({}, {})).toEqual([]);
    expect(differencesBetween({ REPRISE_PRICE_GENERATE: '10' }, {})).toEqual([]);
    expect(differencesBetween({ REPRISE_RATE_LIMIT: '2/60s' }, { REPRISE_RATE_LIMIT: '2/1m' })).toEqual([]);
    expect(differencesBetween({ REPRISE_CALLBACK_SCHEDULE: '0, 5.0, 25' }, {})).toEqual([]);
    expect(differencesBetween({ REPRISE_REFUNDS: 'yes' }, { REPRISE_REFUNDS: 'true' })).toEqual([]);
    // Left unset here, set to something else in the fleet: still a difference.
    expect(differencesBetween({}, { REPRISE_RATE_LIMIT: '40/10s' })).toEqual([{ variable: 'REPRISE_RATE_LIMIT', here: '20/10s', fleet: '40/10s' }]);
  });

  it('takes no public URL here as the fleet’s, and a different one as a difference', () => {
    const fleet = { REPRISE_PUBLIC_URL: 'https://music.example.com' };
    expect(differencesBetween({}, fleet)).toEqual([]);
    expect(differencesBetween({ PORT: '4000' }, fleet)).toEqual([]);
    expect(differencesBetween({ REPRISE_PUBLIC_URL: 'https://music.example.com/' }, fleet)).toEqual([]);
    expect(differencesBetween({ REPRISE_PUBLIC_URL: 'http://10.0.0.5:3000' }, fleet)).toEqual([
      { variable: 'REPRISE_PUBLIC_URL', here: 'http://10.0.0.5:3000', fleet: 'https://music.example.com' },
    ]);
    // A URL here that the fleet has none of yet is filled in, not refused.
    expect(differencesBetween(fleet, {})).toEqual([]);
  });

  it('says in one line what differs, both values, and the command that makes this process’s values the fleet’s', () => {
    const message = fleetConflictMessage(differencesBetween({ REPRISE_PRICE_GENERATE: '12' }, { REPRISE_RATE_LIMIT: '40/10s' }));
    expect(message).toBe(
      "settings differ from the fleet's, recorded in the store: REPRISE_PRICE_GENERATE is 12 here, 10 (the default) in the fleet; " +
        "REPRISE_RATE_LIMIT is 20/10s (the default) here, 40/10s in the fleet. Start this process with the fleet's values, or first make its values the fleet's: " +
        'reprise fleet-config set REPRISE_PRICE_GENERATE=12 REPRISE_RATE_LIMIT=20/10s',
    );
    expect(message).not.toContain('\n');
    // A value a shell would split is quoted in the suggested command.
    expect(fleetConflictMessage([{ variable: 'REPRISE_PUBLIC_URL', here: "http://a/it's here", fleet: 'http://b' }])).toMatch(
      /reprise fleet-config set REPRISE_PUBLIC_URL='http:\/\/a\/it'\\''s here'$/,
    );
  });

  it('never finds a difference between two processes with the same environment', () => {
    fc.assert(
      fc.property(fleetEnv, (env) => {
        const reordered = Object.fromEntries(Object.entries(env).reverse());
        expect(differencesBetween(reordered, env)).toEqual([]);
      }),
    );
  });

  it('names exactly the one fleet-wide variable changed, whenever its effective value changes', () => {
    const change = fc.constantFrom(...FLEET_VARIABLES).chain((variable) => VALID[variable]!.map((value) => ({ variable, value })));
    fc.assert(
      fc.property(fleetEnv, change, (env, { variable, value }) => {
        const fleet = settingsOf(env);
        const here = settingsOf({ ...env, [variable]: value });
        // Nothing else moves: each variable is read into its own setting.
        for (const other of FLEET_VARIABLES) if (other !== variable) expect(here[other]).toBe(fleet[other]);
        const differences = fleetDifferences(here, fleet);
        const differs = fleet[variable] !== undefined && here[variable] !== fleet[variable];
        expect(differences.map((difference) => difference.variable)).toEqual(differs ? [variable] : []);
        if (differs) expect(fleetConflictMessage(differences)).toContain(`${variable} is ${here[variable]}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe.each(storeTargets())('the fleet record on $name', (target) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
  });
  const open = async (url: string): Promise<Store> => {
    const store = await openStore(url, { poolSize: 2 });
    stores.push(store);
    return store;
  };

  it('is recorded by the first process, joined by an equal one, and refuses a different one', async () => {
    const { db } = await open(await target.fresh());
    expect(await readFleetRecord(db)).toBeNull();
    const first = await joinFleet(db, loadConfig({ REPRISE_PRICE_GENERATE: '12' }), 'first', () => 1000);
    expect(first).toEqual({ settings: settingsOf({ REPRISE_PRICE_GENERATE: '12' }), revision: 1, updatedAt: 1000, updatedBy: 'first' });
    expect(await readFleetRecord(db)).toEqual(first);
    expect(await joinFleet(db, loadConfig({ REPRISE_PRICE_GENERATE: '12', PORT: '4000', REPRISE_WORKERS: '7' }), 'second')).toEqual(first);
    const refused = joinFleet(db, loadConfig({}), 'third');
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(
      /^settings differ from the fleet's, recorded in the store: REPRISE_PRICE_GENERATE is 10 \(the default\) here, 12 in the fleet\./,
    );
    expect(await readFleetRecord(db)).toEqual(first);
  });

  it('fills in a public URL the fleet has none of, and gives it to processes that set none', async () => {
    const { db } = await open(await target.fresh());
    await joinFleet(db, loadConfig({}), 'default URL', () => 1000);
    const filled = await joinFleet(db, loadConfig({ REPRISE_PUBLIC_URL: 'https://music.example.com' }), 'with URL', () => 2000);
    expect(filled).toMatchObject({ revision: 2, updatedAt: 2000, updatedBy: 'with URL', settings: { REPRISE_PUBLIC_URL: 'https://music.example.com' } });
    expect((await joinFleet(db, loadConfig({ PORT: '0' }), 'default again')).settings.REPRISE_PUBLIC_URL).toBe('https://music.example.com');
    await expect(joinFleet(db, loadConfig({ REPRISE_PUBLIC_URL: 'http://127.0.0.1:3000' }), 'other URL')).rejects.toThrow(
      'REPRISE_PUBLIC_URL is http://127.0.0.1:3000 here, https://music.example.com in the fleet',
    );
  });

  it('changes the fleet’s values only through set, validated, keeping every value not named', async () => {
    const { db } = await open(await target.fresh());
    // Nothing recorded yet: the defaults, with what is set.
    const made = await setFleetSettings(db, { REPRISE_RATE_LIMIT: '40/10s' }, 'admin', () => 1000);
    expect(made.record).toMatchObject({ revision: 1, settings: settingsOf({ REPRISE_RATE_LIMIT: '40/10s' }) });
    expect(made.changed).toEqual([{ variable: 'REPRISE_RATE_LIMIT', from: '20/10s', to: '40/10s' }]);

    const changed = await setFleetSettings(db, { REPRISE_PRICE_GENERATE: '12', REPRISE_PUBLIC_URL: 'https://music.example.com/' }, 'admin', () => 2000);
    expect(changed.changed).toEqual([
      { variable: 'REPRISE_PUBLIC_URL', from: null, to: 'https://music.example.com' },
      { variable: 'REPRISE_PRICE_GENERATE', from: '10', to: '12' },
    ]);
    expect(changed.record).toMatchObject({
      revision: 2,
      settings: settingsOf({ REPRISE_RATE_LIMIT: '40/10s', REPRISE_PRICE_GENERATE: '12', REPRISE_PUBLIC_URL: 'https://music.example.com' }),
    });
    // The same values again: nothing written.
    expect(await setFleetSettings(db, { REPRISE_PRICE_GENERATE: '12' }, 'admin')).toMatchObject({ changed: [], record: { revision: 2 } });
    // Empty: back to the default; for the URL, none.
    const cleared = await setFleetSettings(db, { REPRISE_RATE_LIMIT: '', REPRISE_PUBLIC_URL: '' }, 'admin');
    expect(cleared.record.settings).toEqual(settingsOf({ REPRISE_PRICE_GENERATE: '12' }));
    await expect(setFleetSettings(db, { REPRISE_PRICE_GENERATE: 'twelve' }, 'admin')).rejects.toThrow(
      'REPRISE_PRICE_GENERATE="twelve" is not valid: expected a whole number from 0 to 1000000',
    );
    await expect(setFleetSettings(db, { REPRISE_WORKERS: '4' }, 'admin')).rejects.toThrow('not fleet-wide settings: REPRISE_WORKERS');
    expect((await readFleetRecord(db))?.revision).toBe(3);
    // A process with the new values joins; one with the old ones is refused.
    await joinFleet(db, loadConfig({ REPRISE_PRICE_GENERATE: '12' }), 'new');
    await expect(joinFleet(db, loadConfig({}), 'old')).rejects.toThrow('REPRISE_PRICE_GENERATE is 10 (the default) here, 12 in the fleet');
  });

  it('lets exactly one of two processes joining an empty store at once record its values', async () => {
    const url = await target.fresh();
    const [a, b] = [await open(url), await open(url)];
    const results = await Promise.allSettled([
      joinFleet(a.db, loadConfig({ REPRISE_PRICE_GENERATE: '11' }), 'a'),
      joinFleet(b.db, loadConfig({ REPRISE_PRICE_GENERATE: '12' }), 'b'),
    ]);
    const joined = results.filter((result) => result.status === 'fulfilled');
    const refused = results.filter((result) => result.status === 'rejected');
    expect([joined.length, refused.length]).toEqual([1, 1]);
    expect(refused[0]?.reason).toBeInstanceOf(ConfigError);
    expect((await readFleetRecord(a.db))?.settings).toEqual(joined[0]?.value.settings);
  });
});
