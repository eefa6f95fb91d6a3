import { type Config, ConfigError, DEFAULT_PRICES, loadConfig, type PriceName, priceVariable } from './config.js';
import type { Executor } from './store/index.js';

/**
 * One configuration for the fleet. Some settings decide what a client gets, so a task must not
 * cost, wait, retry or expire differently by the process that happened to take it: prices, the
 * rate limit, refunds, the callback policy, retention, limits and durations, the public URL. The
 * first process to start on a store records its values of those; every later one compares its own
 * and refuses to start on any difference, naming each one. The fleet's values change only on
 * purpose, with `reprise fleet-config set` (docs/configuration.md#fleet-wide-settings).
 *
 * The public URL is the one exception to "compare": left unset, it names the process itself, which
 * is no value a fleet can share. So it is recorded only once some process (or `set`) gives one,
 * and a process that gives none uses the fleet's: every file URL then works from every process.
 */

/** Environment variable → its value in canonical form, the form its parser reads back to the same setting. */
export type FleetSettings = Record<string, string>;

interface FleetSetting {
  variable: string;
  /** This process's effective value in canonical form; null when it has none of its own (a public URL that follows the port). */
  effective(config: Config): string | null;
}

const seconds = (ms: number): string => String(ms / 1000);
const days = (ms: number): string => String(ms / 86_400_000);

/** `{ max: 20, windowMs: 10000 }` → `20/10s`: the largest unit that divides the window, so `60s` and `1m` read the same. */
function rateLimitText({ max, windowMs }: { max: number; windowMs: number }): string {
  const unit = (
    [
      ['h', 3_600_000],
      ['m', 60_000],
      ['s', 1000],
    ] as const
  ).find(([, ms]) => windowMs % ms === 0);
  return unit ? `${max}/${windowMs / unit[1]}${unit[0]}` : `${max}/${windowMs}ms`;
}

/** In the order messages and `reprise fleet-config show` list them. */
const FLEET_SETTINGS: readonly FleetSetting[] = [
  { variable: 'REPRISE_PUBLIC_URL', effective: (c) => (c.publicUrlIsDefault ? null : c.publicUrl) },
  ...(Object.keys(DEFAULT_PRICES) as PriceName[]).map((name) => ({ variable: priceVariable(name), effective: (c: Config) => String(c.prices[name]) })),
  { variable: 'REPRISE_RATE_LIMIT', effective: (c) => rateLimitText(c.rateLimit) },
  { variable: 'REPRISE_REFUNDS', effective: (c) => String(c.refunds) },
  { variable: 'REPRISE_CALLBACK_SCHEDULE', effective: (c) => c.callbackScheduleMs.map(seconds).join(',') },
  { variable: 'REPRISE_CALLBACK_TIMEOUT_MS', effective: (c) => String(c.callbackTimeoutMs) },
  { variable: 'REPRISE_TASK_TIMEOUT_S', effective: (c) => seconds(c.taskTimeoutMs) },
  { variable: 'REPRISE_GENERATE_DURATION_S', effective: (c) => String(c.generateDurationS) },
  { variable: 'REPRISE_EXTEND_DURATION_S', effective: (c) => String(c.extendDurationS) },
  { variable: 'REPRISE_RETENTION_DAYS', effective: (c) => days(c.retention.generatedMs) },
  { variable: 'REPRISE_UPLOAD_RETENTION_DAYS', effective: (c) => days(c.retention.uploadsMs) },
  { variable: 'REPRISE_UPLOAD_MAX_BYTES', effective: (c) => String(c.uploadMaxBytes) },
  { variable: 'REPRISE_SOURCE_MAX_S', effective: (c) => String(c.sourceMaxS) },
  { variable: 'REPRISE_JSON_BODY_MAX_BYTES', effective: (c) => String(c.jsonBodyMaxBytes) },
  { variable: 'REPRISE_HTTP_STATUS_MIRRORS_CODE', effective: (c) => String(c.httpStatusMirrorsCode) },
];

/** Every fleet-wide setting's variable. */
export const FLEET_VARIABLES: readonly string[] = FLEET_SETTINGS.map((setting) => setting.variable);

export const isFleetVariable = (variable: string): boolean => FLEET_VARIABLES.includes(variable);

/** The fleet-wide settings of a configuration (its public URL only if one was set). */
export function fleetSettingsOf(config: Config): FleetSettings {
  const settings: FleetSettings = {};
  for (const { variable, effective } of FLEET_SETTINGS) {
    const value = effective(config);
    if (value !== null) settings[variable] = value;
  }
  return settings;
}

let defaults: FleetSettings | undefined;
/** What every fleet-wide setting is when its variable is unset. */
export const defaultFleetSettings = (): FleetSettings => (defaults ??= fleetSettingsOf(loadConfig({})));

export interface FleetDifference {
  variable: string;
  here: string;
  fleet: string;
}

/**
 * The fleet-wide settings whose value here is not the fleet's, compared as effective values (an
 * unset variable counts as its default). One the fleet has not recorded, or one this process has
 * none of (its public URL), is no difference; a variable only a newer version knows is ignored.
 */
export function fleetDifferences(here: FleetSettings, fleet: FleetSettings): FleetDifference[] {
  const differences: FleetDifference[] = [];
  for (const variable of FLEET_VARIABLES) {
    const [mine, theirs] = [here[variable], fleet[variable]];
    if (mine !== undefined && theirs !== undefined && mine !== theirs) differences.push({ variable, here: mine, fleet: theirs });
  }
  return differences;
}

/** A value as a shell word: bare when it is plainly safe, in single quotes otherwise. */
const shellWord = (value: string): string => (/^[\w./:,@%+=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

/** The one line a process whose settings differ from the fleet's stops with: every difference, and both ways out. */
export function fleetConflictMessage(differences: readonly FleetDifference[]): string {
  const standard = defaultFleetSettings();
  const shown = (variable: string, value: string): string => (standard[variable] === value ? `${value} (the default)` : value);
  const named = differences.map(({ variable, here, fleet }) => `${variable} is ${shown(variable, here)} here, ${shown(variable, fleet)} in the fleet`);
  const assignments = differences.map(({ variable, here }) => `${variable}=${shellWord(here)}`).join(' ');
  return (
    `settings differ from the fleet's, recorded in the store: ${named.join('; ')}. ` +
    `Start this process with the fleet's values, or first make its values the fleet's: reprise fleet-config set ${assignments}`
  );
}

/** The fleet's settings as the store records them. */
export interface FleetRecord {
  settings: FleetSettings;
  /** 1 when first recorded, one more at each change. */
  revision: number;
  updatedAt: number;
  updatedBy: string;
}

/** The one row of `fleet_settings`. */
const FLEET_ROW = 'fleet';

/** The stored JSON, checked: an object of strings, or the store is not one this code wrote. */
function parseSettings(text: string): FleetSettings {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('fleet_settings.settings is not a JSON object');
  const settings: FleetSettings = {};
  for (const [variable, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error(`fleet_settings.settings.${variable} is not a string`);
    settings[variable] = value;
  }
  return settings;
}

/** Known variables in their listed order, then any a newer version recorded: `show` reads in a stable order. */
function inOrder(settings: FleetSettings): FleetSettings {
  const rank = (variable: string): number => {
    const index = FLEET_VARIABLES.indexOf(variable);
    return index === -1 ? FLEET_VARIABLES.length : index;
  };
  const ordered = Object.entries(settings).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(ordered);
}

const sameSettings = (a: FleetSettings, b: FleetSettings): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([variable, value]) => b[variable] === value);

export async function readFleetRecord(db: Executor): Promise<FleetRecord | null> {
  const row = await db.selectFrom('fleet_settings').selectAll().where('id', '=', FLEET_ROW).executeTakeFirst();
  if (!row) return null;
  return { settings: parseSettings(row.settings), revision: Number(row.revision), updatedAt: Number(row.updated_at), updatedBy: row.updated_by };
}

/** Records `settings` as the fleet's if nothing is recorded yet: of processes doing this at once, exactly one succeeds. */
async function recordIfAbsent(db: Executor, settings: FleetSettings, by: string, now: number): Promise<FleetRecord | null> {
  const record: FleetRecord = { settings: inOrder(settings), revision: 1, updatedAt: now, updatedBy: by };
  const result = await db
    .insertInto('fleet_settings')
    .values({ id: FLEET_ROW, settings: JSON.stringify(record.settings), revision: 1, updated_at: now, updated_by: by })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1 ? record : null;
}

/** Replaces the fleet's settings only if they are still at the revision read: a change made meanwhile is never overwritten. */
async function replaceRecord(db: Executor, read: FleetRecord, settings: FleetSettings, by: string, now: number): Promise<FleetRecord | null> {
  const record: FleetRecord = { settings: inOrder(settings), revision: read.revision + 1, updatedAt: now, updatedBy: by };
  const result = await db
    .updateTable('fleet_settings')
    .set({ settings: JSON.stringify(record.settings), revision: record.revision, updated_at: now, updated_by: by })
    .where('id', '=', FLEET_ROW)
    .where('revision', '=', read.revision)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1 ? record : null;
}

/** Another process changing the record between our read and our write makes us read again; this many times is already absurd. */
const MAX_ROUNDS = 10;

/**
 * Checks this process's fleet-wide settings against the store before it serves or works. The first
 * process on a store records its values; a later one with any different value gets a ConfigError
 * naming each difference (one line); one that has a setting the record lacks (a public URL the
 * fleet has none of yet, a setting added by a newer version) fills it in. Returns the fleet's record.
 */
export async function joinFleet(db: Executor, config: Config, by: string, clock: () => number = Date.now): Promise<FleetRecord> {
  const here = fleetSettingsOf(config);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const recorded = await readFleetRecord(db);
    if (!recorded) {
      const first = await recordIfAbsent(db, here, by, clock());
      if (first) return first;
      continue; // another process recorded first: compare with its values
    }
    const differences = fleetDifferences(here, recorded.settings);
    if (differences.length > 0) throw new ConfigError(fleetConflictMessage(differences));
    // No difference: `here` can only add what the record lacks.
    const filled = { ...recorded.settings, ...here };
    if (sameSettings(filled, recorded.settings)) return recorded;
    const replaced = await replaceRecord(db, recorded, filled, by, clock());
    if (replaced) return replaced;
  }
  throw new Error('the fleet settings kept changing while this process started; start it again');
}

export interface FleetChange {
  variable: string;
  /** Null: not recorded (a public URL the fleet had none of). */
  from: string | null;
  to: string | null;
}

/**
 * `reprise fleet-config set`: the fleet's values with `assignments` (variable → value as it would
 * be written in the environment; empty means unset: the default, or for REPRISE_PUBLIC_URL no
 * fleet URL) applied, validated as at start-up. Every other setting keeps its recorded value; on a
 * store with none recorded yet, the rest are the defaults. Returns the record and what changed.
 */
export async function setFleetSettings(
  db: Executor,
  assignments: Readonly<Record<string, string>>,
  by: string,
  clock: () => number = Date.now,
): Promise<{ record: FleetRecord; changed: FleetChange[] }> {
  const unknown = Object.keys(assignments).filter((variable) => !isFleetVariable(variable));
  if (unknown.length > 0) throw new Error(`not fleet-wide settings: ${unknown.join(', ')}`);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const recorded = await readFleetRecord(db);
    const before = recorded?.settings ?? defaultFleetSettings();
    // The config parser validates the new values (a ConfigError names the variable) and makes them canonical.
    const after: FleetSettings = { ...before, ...fleetSettingsOf(loadConfig({ ...before, ...assignments })) };
    if (assignments.REPRISE_PUBLIC_URL === '') delete after.REPRISE_PUBLIC_URL;
    const changed = FLEET_VARIABLES.map((variable) => ({ variable, from: before[variable] ?? null, to: after[variable] ?? null })).filter(
      (change) => change.from !== change.to,
    );
    if (recorded && changed.length === 0) return { record: recorded, changed };
    const record = recorded ? await replaceRecord(db, recorded, after, by, clock()) : await recordIfAbsent(db, after, by, clock());
    if (record) return { record, changed };
  }
  throw new Error('the fleet settings kept changing meanwhile; run the command again');
}
