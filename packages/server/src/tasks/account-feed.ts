import type { Executor } from '../store/index.js';
import { isTerminal, type TaskSummary, tasksByIds, tasksCreatedSince, unfinishedTasks } from './listing.js';

/**
 * What changed among an account's tasks since the last look (the console's feed [EXT]), read
 * from the store so that changes made by any process show. Only two kinds of task can change:
 * one not finished yet (looked up by id), and one created since (found through the index on
 * account and creation time). No scan of the account's history, however long.
 */
export interface AccountFeed {
  /** Tasks new or with another status since the last call (the first call only learns the present). */
  changes(now?: number): Promise<TaskSummary[]>;
  /** Whether a change of this task may concern the feed (it is the account's and may still change). */
  watches(taskId: string): boolean;
}

/**
 * Tasks created this long before a look are read again at the next: a task committed late
 * (a long transaction, another machine's clock a little behind) is still found. The statuses
 * remembered for them keep it from being reported twice.
 */
export const LATE_COMMIT_MARGIN_MS = 10_000;
/** Tasks looked up by id per query (well under every dialect's limit of parameters). */
const IDS_PER_QUERY = 500;
/** New tasks read per look; more (a burst) are read at the next look. */
const NEW_PER_LOOK = 500;

export function accountFeed(db: Executor, accountId: string): AccountFeed {
  /** Last status seen of every task that may still be reported: unfinished ones, and any created within the margin. */
  const known = new Map<string, { status: string; createdAt: number }>();
  let since: number | null = null;

  async function changes(now = Date.now()): Promise<TaskSummary[]> {
    const first = since === null;
    const floor = since ?? now - LATE_COMMIT_MARGIN_MS;
    const fresh = await tasksCreatedSince(db, accountId, floor, NEW_PER_LOOK);
    const watched = [...known.entries()].filter(([, seen]) => !isTerminal(seen.status)).map(([id]) => id);
    const current = first ? await unfinishedTasks(db, accountId) : [];
    for (let i = 0; i < watched.length; i += IDS_PER_QUERY) current.push(...(await tasksByIds(db, accountId, watched.slice(i, i + IDS_PER_QUERY))));

    const changed: TaskSummary[] = [];
    for (const task of [...fresh, ...current]) {
      const seen = known.get(task.taskId);
      if (seen?.status === task.status) continue;
      known.set(task.taskId, { status: task.status, createdAt: task.createTime });
      if (!first) changed.push(task);
    }
    // A burst larger than one look continues from its last task; otherwise from the margin before now.
    const lastFresh = fresh.at(-1);
    since = fresh.length === NEW_PER_LOOK && lastFresh ? lastFresh.createTime : Math.max(floor, now - LATE_COMMIT_MARGIN_MS);
    const horizon = since;
    for (const [id, seen] of known) if (isTerminal(seen.status) && seen.createdAt < horizon) known.delete(id);
    return changed.sort((a, b) => a.createTime - b.createTime);
  }

  return {
    changes,
    watches: (taskId) => {
      const seen = known.get(taskId);
      return seen !== undefined && !isTerminal(seen.status);
    },
  };
}
