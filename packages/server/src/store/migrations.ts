import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Dialect } from './db.js';

/**
 * Migrations live in code (not files) so the built package carries them.
 * The DDL is written once for both dialects: `bigint` and `double precision`
 * get INTEGER and REAL affinity on SQLite.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('accounts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('balance', 'bigint', (c) => c.notNull().check(sql`balance >= 0`))
          .addColumn('webhook_key', 'text')
          .addColumn('webhook_key_prev', 'text')
          .addColumn('webhook_key_prev_until', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('prefix', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('revoked_at', 'bigint')
          .execute();

        await db.schema
          .createTable('ledger')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('task_id', 'text')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('amount', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('ledger_task_kind').on('ledger').columns(['task_id', 'kind']).unique().execute();
        await db.schema.createIndex('ledger_account').on('ledger').columns(['account_id', 'created_at']).execute();

        await db.schema
          .createTable('tasks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('param', 'text', (c) => c.notNull())
          .addColumn('input', 'text', (c) => c.notNull())
          .addColumn('parent_music_id', 'text', (c) => c.notNull())
          .addColumn('callback_url', 'text')
          .addColumn('price', 'bigint', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('error_code', 'integer')
          .addColumn('error_message', 'text')
          .addColumn('sheet', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('deadline_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .execute();
        // Serves the per-account rate limit (tasks created in the last window).
        await db.schema.createIndex('tasks_account_created').on('tasks').columns(['account_id', 'created_at']).execute();

        await db.schema
          .createTable('tracks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id'))
          .addColumn('idx', 'integer', (c) => c.notNull())
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('tags', 'text', (c) => c.notNull())
          .addColumn('prompt', 'text', (c) => c.notNull())
          .addColumn('model_name', 'text', (c) => c.notNull())
          .addColumn('duration', 'double precision', (c) => c.notNull())
          .addColumn('audio_file', 'text', (c) => c.notNull())
          .addColumn('image_file', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('tracks_task_idx').on('tracks').columns(['task_id', 'idx']).unique().execute();

        await db.schema
          .createTable('files')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('blob_key', 'text', (c) => c.notNull())
          .addColumn('content_type', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('file_path', 'text')
          .addColumn('file_name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('files_account_path').on('files').columns(['account_id', 'file_path']).unique().execute();
        await db.schema.createIndex('files_expires').on('files').columns(['expires_at']).execute();

        await db.schema
          .createTable('jobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('queue', 'text', (c) => c.notNull())
          .addColumn('ref_id', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('run_at', 'bigint', (c) => c.notNull())
          .addColumn('locked_until', 'bigint')
          .addColumn('locked_by', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        // Matches the claim query's filter and order.
        await db.schema.createIndex('jobs_claim').on('jobs').columns(['queue', 'state', 'run_at', 'id']).execute();
        await db.schema.createIndex('jobs_ref').on('jobs').columns(['ref_id']).execute();

        await db.schema
          .createTable('callbacks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id'))
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('round_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          .execute();
        // One callback per stage: a re-run stage (after a crash) cannot owe it twice.
        await db.schema.createIndex('callbacks_task_stage').on('callbacks').columns(['task_id', 'stage']).unique().execute();

        await db.schema
          .createTable('callback_attempts')
          .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
          )
          .addColumn('callback_id', 'text', (c) => c.notNull().references('callbacks.id'))
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('duration_ms', 'integer', (c) => c.notNull())
          .addColumn('http_status', 'integer')
          .addColumn('error_class', 'text')
          .addColumn('response_body', 'text')
          .execute();
        await db.schema.createIndex('callback_attempts_callback').on('callback_attempts').columns(['callback_id', 'id']).execute();
      },
    },
    // Each track's lossless master, edited instead of the MP3 when a later task names the track.
    // A nullable column added by ALTER TABLE: cheap on both dialects, and rows made before stay valid (null: no master).
    '0002_track_masters': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('tracks').addColumn('master_file', 'text').execute();
      },
    },
    // The range a replace-section task actually replaced (its edges moved onto the song's beats), in seconds.
    // Nullable: generated tracks, tracks made before, and engines that cannot tell have none.
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    '0003_track_applied_range': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('tracks').addColumn('applied_start_s', 'double precision').execute();
        await db.schema.alterTable('tracks').addColumn('applied_end_s', 'double precision').execute();
      },
    },
    // The delivery lease moves onto the callback row: `due_at` is when the next attempt may start, and a claim
    // pushes it to the lease's end, so a dispatcher that dies leaves a row that is simply due again later.
    // One row written per claim and per outcome, where a separate job row cost two more writes and a join.
    // Pending callbacks take their due time from their job; the callback jobs go.
    '0004_callback_lease': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('callbacks').addColumn('due_at', 'bigint').execute();
        await db.schema.alterTable('callbacks').addColumn('leased_by', 'text').execute();
        await sql`update callbacks set due_at = coalesce(
          (select min(jobs.run_at) from jobs where jobs.ref_id = callbacks.id and jobs.queue = 'callback' and jobs.state in ('queued', 'running')),
          updated_at)
        where status = 'pending'`.execute(db);
        await sql`delete from jobs where queue = 'callback'`.execute(db);
        // Partial: only what may still be sent is indexed, so the index stays as small as the backlog.
        await db.schema.createIndex('callbacks_due').on('callbacks').columns(['due_at', 'id']).where(sql.ref('status'), '=', sql.lit('pending')).execute();
      },
    },
    // Roles one process at a time holds on the store: on SQLite, sending callbacks, whose claims then
    // live in that process's memory instead of being written onto each row.
    '0005_process_leases': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('process_leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('until', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    // The Suno family: results of kinds that make no tracks, the sung words of a track (exact
    // timestamped lyrics later), and personas. Nullable columns: every older row stays valid.
    '0006_suno_family': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('tasks').addColumn('result', 'text').execute();
        await db.schema.alterTable('tracks').addColumn('sung', 'text').execute();
        await db.schema
          .createTable('personas')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('audio_id', 'text', (c) => c.notNull().unique())
          .addColumn('task_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    // Idempotency-Key [EXT]: the primary key (account, key) is what lets one request through when a
    // retry arrives at another process; the row names its task, so a key never outlives its task.
    // created_at is indexed for the retention sweep, which deletes rows past their 24 h.
    '0007_idempotency_keys': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('idempotency_keys')
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'key'])
          .execute();
        await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').column('created_at').execute();
      },
    },
    // The settings every process of a fleet must share (fleet-config.ts), recorded by the first process
    // to start: one row, its settings a JSON object keyed by environment variable, so that a setting
    // added later needs no migration. `revision` makes every change a compare-and-set.
    '0008_fleet_settings': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('fleet_settings')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .execute();
      },
    },
    // The console's inbox and sandbox [EXT]. Flags are integers 0/1 on both dialects (SQLite has no
    // boolean); NOT NULL DEFAULT 0 keeps every older row a plain account and a real task. A taken
    // scenario row stays as the record of what its task was scripted to do (worker and dispatcher read it).
    '0009_console': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('accounts')
          .addColumn('sandbox', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .alterTable('tasks')
          .addColumn('simulated', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createTable('inboxes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('token', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('inboxes_account').on('inboxes').columns(['account_id', 'created_at']).execute();
        await db.schema
          .createTable('inbox_requests')
          .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
          )
          .addColumn('inbox_id', 'text', (c) => c.notNull().references('inboxes.id'))
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addColumn('method', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('headers', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('kie_verified', 'integer')
          .addColumn('standard_verified', 'integer')
          .execute();
        await db.schema.createIndex('inbox_requests_inbox').on('inbox_requests').columns(['inbox_id', 'id']).execute();
        await db.schema
          .createTable('sandbox_scenarios')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('position', 'bigint', (c) => c.notNull())
          .addColumn('scenario', 'text', (c) => c.notNull())
          .addColumn('task_id', 'text')
          .addColumn('taken_at', 'bigint')
          .execute();
        await db.schema.createIndex('sandbox_scenarios_queue').on('sandbox_scenarios').columns(['account_id', 'position']).execute();
        await db.schema.createIndex('sandbox_scenarios_task').on('sandbox_scenarios').column('task_id').execute();
      },
    },
    // The headers each attempt was sent with: the console's delivery timeline shows every
    // attempt's signatures, whatever the receiver (rows written before stay null).
    '0010_attempt_headers': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('callback_attempts').addColumn('request_headers', 'text').execute();
      },
    },
  };
}

/**
 * Brings the schema up to date; safe to run from several processes at once. On PostgreSQL Kysely
 * takes a lock. Its SQLite adapter takes none (it assumes one process), so two processes starting
 * on one empty file can both see a migration as pending, and the later one fails on what the
 * first created ("table … already exists"): the later one then tries again, and finds them applied.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const attempts = dialect === 'sqlite' ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateOnce(db, dialect);
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function migrateOnce(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // Kysely looks for its own tables across every schema; name ours so that several
  // reprise databases in one PostgreSQL (one schema each) do not see each other's.
  const schema = dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
