import { ApiError, invalid } from '../errors.js';

/**
 * Small readers for untrusted JSON objects. Each returns the typed value or throws
 * a 422 whose message names the field and the rule (SPEC §1). `null` counts as
 * absent, because KIE clients send `"negativeTags": null` for "not given".
 */
export type Body = Record<string, unknown>;

export function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(422, 'body: must be a JSON object');
  }
  return value as Body;
}

const length = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

export function optionalString(body: Body, field: string, max: number): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (length(value) > max) throw invalid(field, `must be at most ${max} characters`);
  return value;
}

export function requiredString(body: Body, field: string, max: number): string {
  const value = optionalString(body, field, max);
  if (value === undefined) throw invalid(field, 'is required');
  if (value.trim() === '') throw invalid(field, 'must not be empty');
  return value;
}

export function requiredBoolean(body: Body, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) throw invalid(field, 'is required');
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

export function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

export function optionalUnit(body: Body, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a number');
  if (value < 0 || value > 1) throw invalid(field, 'must be between 0 and 1');
  return value;
}

export function optionalEnum<T extends string>(body: Body, field: string, allowed: readonly T[]): T | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Seconds with at most two decimals, as KIE documents for infillStartS/infillEndS. */
export function requiredSeconds(body: Body, field: string): number {
  const value = body[field];
  if (value === undefined || value === null) throw invalid(field, 'is required');
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a number of seconds');
  if (value < 0) throw invalid(field, 'must be at least 0');
  if (Math.abs(value * 100 - Math.round(value * 100)) > 1e-6) throw invalid(field, 'must have at most 2 decimal places');
  return value;
}

/** An http(s) URL the service will call or fetch later; only its form is checked here. */
export function optionalHttpUrl(body: Body, field: string): string | undefined {
  const value = optionalString(body, field, 2048);
  if (value === undefined || value === '') return undefined;
  return checkHttpUrl(value, field);
}

/** `optionalHttpUrl` for a field that must be there. */
export function requiredHttpUrl(body: Body, field: string): string {
  const value = optionalHttpUrl(body, field);
  if (value === undefined) throw invalid(field, 'is required');
  return value;
}

/** The form of an http(s) URL: absolute, http or https, no user name or password. */
export function checkHttpUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, 'must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(field, 'must use http:// or https://');
  if (url.username || url.password) throw invalid(field, 'must not contain a user name or password');
  return value;
}

/** `custom_mode` → `customMode`: KIE's Market names and its record fields are the same words in two casings. */
export const camelCase = (name: string): string => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** `customMode` → `custom_mode`. */
export const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
