export { type CommitOptions, type Db, type Dialect, type Executor, openStore, type Store, type Tx } from './db.js';
export {
  type Arg,
  asRunner,
  changedRows,
  executeTogether,
  inList,
  insertRows,
  kyselyRunner,
  listParam,
  type Prepared,
  prepare,
  type Runner,
} from './prepared.js';
export type * from './schema.js';
