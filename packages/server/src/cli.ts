#!/usr/bin/env node
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createAccount, createKey, grantCredits, revokeKeys, rotateWebhookKey } from './accounts/index.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { ApiError } from './errors.js';
import { fleetDifferences, fleetSettingsOf, isFleetVariable, readFleetRecord, setFleetSettings } from './fleet-config.js';
import { describeRoles, isRole, type Role, type Roles, sameRoles } from './roles.js';
import { parseScenarioQueue, queuedScenarios, replaceQueue, requireSandbox, type Scenario } from './sandbox/index.js';
import { startServer } from './server.js';
import { openStore, type Store } from './store/index.js';

const USAGE = `usage: reprise <command>
  serve                                              the roles REPRISE_ROLES names (default: api,worker,dispatcher)
  api                                                the HTTP API: takes tasks, renders nothing, sends no callbacks
  worker                                             renders tasks; serves only /healthz, /readyz, /metrics
  dispatcher                                         sends callbacks; serves only /healthz, /readyz, /metrics
  accounts create --name NAME [--credits N] [--webhook-key] [--sandbox]
  credits grant --account ID --amount N
  keys create --account ID
  keys revoke --key-prefix P
  webhook-key rotate --account ID [--overlap-hours H]
  sandbox set --account ID --json '[SCENARIO, …]'       a sandbox account's scenario queue (docs/api.md#sandbox)
  sandbox show --account ID
  fleet-config show                                  the fleet-wide settings the store records, and what differs here
  fleet-config set VARIABLE=value …                  change fleet-wide settings (empty value: the default)
Configuration comes from the environment (see docs/configuration.md).`;

class UsageError extends Error {}

function wholeNumber(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

/** `--json`: the queue as an array of scenarios, or as the API's body `{"scenarios": […]}`. */
function scenariosFromCli(text: string): Scenario[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--json is not valid JSON (${(error as Error).message})`);
  }
  return parseScenarioQueue(Array.isArray(parsed) ? { scenarios: parsed } : parsed);
}

/** Admin commands print exactly one JSON object on stdout (SPEC §7). */
async function admin(command: string, args: string[]): Promise<unknown> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      credits: { type: 'string' },
      'webhook-key': { type: 'boolean' },
      account: { type: 'string' },
      amount: { type: 'string' },
      'key-prefix': { type: 'string' },
      'overlap-hours': { type: 'string' },
      sandbox: { type: 'boolean' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const config = loadConfig();
  let store: Store | null = null;
  try {
    store = await openStore(config.databaseUrl, { poolSize: 2 });
    const db = store.db;
    switch (command) {
      case 'accounts create': {
        const sandbox = values.sandbox ?? false;
        const created = await createAccount(db, {
          name: required('name', values.name),
          credits: wholeNumber('credits', values.credits, 0),
          webhookKey: values['webhook-key'] ?? false,
          sandbox,
        });
        return sandbox ? { ...created, sandbox } : created;
      }
      case 'sandbox set':
      case 'sandbox show': {
        const accountId = required('account', values.account);
        await requireSandbox(db, accountId);
        if (command === 'sandbox set') await replaceQueue(db, accountId, scenariosFromCli(required('json', values.json)));
        return { accountId, scenarios: await queuedScenarios(db, accountId) };
      }
      case 'credits grant': {
        const accountId = required('account', values.account);
        return { accountId, credits: await grantCredits(db, accountId, wholeNumber('amount', values.amount)) };
      }
      case 'keys create': {
        const accountId = required('account', values.account);
        return { accountId, apiKey: await createKey(db, accountId) };
      }
      case 'keys revoke':
        return { revoked: await revokeKeys(db, required('key-prefix', values['key-prefix'])) };
      case 'webhook-key rotate': {
        const accountId = required('account', values.account);
        return { accountId, webhookHmacKey: await rotateWebhookKey(db, accountId, wholeNumber('overlap-hours', values['overlap-hours'], 24)) };
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } finally {
    await store?.close();
  }
}

/**
 * `reprise fleet-config show|set` (docs/configuration.md#fleet-wide-settings). `show` changes
 * nothing; `set` is the one way to change the fleet's values on purpose, checked as at start-up.
 */
async function fleetConfig(subcommand: string | undefined, args: string[]): Promise<unknown> {
  if (subcommand !== 'show' && subcommand !== 'set') throw new UsageError(`unknown command "fleet-config${subcommand ? ` ${subcommand}` : ''}"`);
  if (subcommand === 'show' && args.length > 0) throw new UsageError('"reprise fleet-config show" takes no arguments');
  const assignments: Record<string, string> = {};
  for (const arg of args) {
    const equals = arg.indexOf('=');
    if (equals < 1) throw new UsageError(`expected VARIABLE=value, got ${JSON.stringify(arg)}`);
    const variable = arg.slice(0, equals);
    if (!isFleetVariable(variable)) throw new UsageError(`${variable} is not a fleet-wide setting (see docs/configuration.md#fleet-wide-settings)`);
    assignments[variable] = arg.slice(equals + 1);
  }
  if (subcommand === 'set' && args.length === 0) throw new UsageError('"reprise fleet-config set" needs at least one VARIABLE=value');
  const config = loadConfig();
  const store = await openStore(config.databaseUrl, { poolSize: 2 });
  try {
    if (subcommand === 'set') {
      const { record, changed } = await setFleetSettings(store.db, assignments, `reprise fleet-config set on ${os.hostname()}`);
      return { revision: record.revision, changed, settings: record.settings };
    }
    const record = await readFleetRecord(store.db);
    return {
      revision: record?.revision ?? 0,
      updatedAt: record ? new Date(record.updatedAt).toISOString() : null,
      updatedBy: record?.updatedBy ?? null,
      settings: record?.settings ?? null,
      // What a process started with this environment would be refused for.
      differences: record ? fleetDifferences(fleetSettingsOf(config), record.settings) : [],
    };
  } finally {
    await store.close();
  }
}

/** What the process says when it begins to stop, by the roles it has. */
function drainingMessage(roles: Roles): string {
  const steps = [
    roles.includes('api') && 'new tasks get 455',
    roles.includes('worker') && 'running tasks finish or are released',
    roles.includes('dispatcher') && 'callbacks in flight finish and are recorded',
  ].filter((step) => step !== false);
  return `draining: ${steps.join(', ')}`;
}

/**
 * `reprise serve` runs the roles REPRISE_ROLES names; `reprise api|worker|dispatcher` runs that
 * one role whatever REPRISE_ROLES says, so a fleet's manifests can share one environment.
 */
async function serve(command: 'serve' | Role): Promise<void> {
  const configured = loadConfig();
  const config: Config = command === 'serve' ? configured : { ...configured, roles: [command] };
  const server = await startServer(config);
  const log = server.app.log;
  const fromEnvironment = process.env.REPRISE_ROLES;
  if (command !== 'serve' && fromEnvironment && !sameRoles(configured.roles, config.roles)) {
    log.warn({ REPRISE_ROLES: fromEnvironment }, `REPRISE_ROLES is ignored: \`reprise ${command}\` runs the ${command} role only`);
  }
  log.info(
    { url: server.url, roles: describeRoles(config.roles), store: server.services.store.describe, publicUrl: server.services.config.publicUrl },
    'reprise is listening',
  );
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, drainingMessage(config.roles));
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [first = 'serve', second] = argv;
  if (first === 'serve' || isRole(first)) {
    if (argv.length > 1) throw new UsageError(`"reprise ${first}" takes no arguments (configuration comes from the environment)`);
    return serve(first);
  }
  if (first === '--help' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = `${first} ${second ?? ''}`.trim();
  const result = first === 'fleet-config' ? await fleetConfig(second, argv.slice(2)) : await admin(command, argv.slice(2));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
    process.stderr.write(`reprise: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (error instanceof ConfigError || error instanceof ApiError) {
    process.stderr.write(`reprise: ${error.message}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  }
  process.stderr.write(`reprise: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
