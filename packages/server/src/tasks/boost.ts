import { balanceOf, debitTasks, lockedBalance } from '../accounts/index.js';
import { boostStyle } from '../audio/index.js';
import { ApiError } from '../errors.js';
import { newTaskId } from '../ids.js';
import type { Store } from '../store/index.js';
import { asBody, requiredString } from './fields.js';

/**
 * Boost Music Style (KIE `POST /api/v1/style/generate`, synchronous): the style words
 * expanded from the genre table (audio/synthesis/boost.ts), answered in KIE's recorded shape.
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

export async function boostStyleRequest(store: Store, accountId: string, price: number, raw: unknown): Promise<BoostAnswer> {
  const content = requiredString(asBody(raw), 'content', BOOST_CONTENT_MAX);
  const result = boostStyle(content);
  const taskId = newTaskId();
  const now = Date.now();
  if (price > 0) {
    const charged = await store.transaction(async (tx) => {
      if (((await lockedBalance(tx, accountId)) ?? 0) < price) return false;
      return debitTasks(tx, accountId, [{ taskId, amount: price }], now);
    });
    if (!charged) throw new ApiError(402, `Insufficient credits: a style boost costs ${price}`);
  }
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
