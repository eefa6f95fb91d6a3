import { balanceOf } from '../accounts/index.js';
import { newTaskId } from '../ids.js';
import type { Store } from '../store/index.js';
import { chargeNow } from './charge.js';
import { asBody, requiredString } from './fields.js';

/**
 * Boost Music Style (KIE `POST /api/v1/style/generate`, synchronous): the style words
 * expanded from the genre table (audio/synthesis/boost.ts), answered in KIE's recorded shape.
 * The audio library is loaded when first needed, so a serving process that never boosts, makes
 * personas or draws covers does not hold it (idle RSS).
 */
export interface BoostAnswer {
  taskId: string;
  param: string;
  result: string;
  creditsConsumed: number;
  creditsRemaining: number;
  /** api.kie.ai answers the word for "success" in Chinese here (recorded), not the documented "1". */
  successFlag: string;
  errorCode: null;
  errorMsg: null;
  createTime: number;
}

export const BOOST_CONTENT_MAX = 1000;

export const parseBoost = (raw: unknown): string => requiredString(asBody(raw), 'content', BOOST_CONTENT_MAX);

export async function boostStyleRequest(store: Store, accountId: string, price: number, raw: unknown): Promise<BoostAnswer> {
  const content = parseBoost(raw);
  const result = (await import('../audio/synthesis/boost.js')).boostStyle(content);
  const taskId = newTaskId();
  const now = Date.now();
  await chargeNow(store, accountId, price, taskId, 'a style boost');
  return {
    taskId,
    param: content,
    result,
    creditsConsumed: price,
    creditsRemaining: await balanceOf(store.db, accountId),
    successFlag: '成功',
    errorCode: null,
    errorMsg: null,
    createTime: now,
  };
}
