import { randomBytes } from 'node:crypto';

/** API keys: `rk_` + 40 hex chars. Only their SHA-256 is stored. */
export const newApiKey = (): string => `rk_${randomBytes(20).toString('hex')}`;
/** The part of a key that operators see in listings and pass to `keys revoke`. */
export const keyPrefix = (apiKey: string): string => apiKey.slice(0, 12);
/** SPEC §5.3: one secret per account serves both signing schemes. */
export const newWebhookKey = (): string => `whsec_${randomBytes(32).toString('base64')}`;
