export { type Db, type Dialect, type Executor, openStore, type Store, type Tx } from './db.js';
export type * from './schema.js';
export { type Arg, asRunner, changedRows, insertRows, kyselyRunner, type Prepared, prepare, type Runner } from './prepared.js';
