/** Every JSON answer of the API (SPEC §1). */
export interface Envelope<T> {
  code: number;
  msg: string;
  data: T;
}

export const ok = <T>(data: T): Envelope<T> => ({ code: 200, msg: 'success', data });
