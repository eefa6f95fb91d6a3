import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.databaseUrl).toMatch(/^sqlite:.*reprise\.sqlite$/);
    expect(config.callbackScheduleMs).toEqual([0, 5000, 25000]);
    expect(config.callbackTimeoutMs).toBe(10_000);
    expect(config.rateLimit).toEqual({ max: 20, windowMs: 10_000 });
    // docs/configuration.md, "Prices": one per task kind.
    expect(config.prices).toEqual({
      generate: 10,
      replaceSection: 5,
      extend: 10,
      uploadExtend: 10,
      uploadCover: 10,
      addInstrumental: 10,
      addVocals: 10,
      mashup: 10,
      coverImage: 0,
      boostStyle: 0,
      persona: 0,
      lyrics: 1,
      wav: 1,
      timestampedLyrics: 1,
      musicVideo: 2,
      separateVocal: 10,
      splitStem: 50,
      midi: 0,
    });
    expect(config.outboundAllow).toEqual([]);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT="abc" is not valid: expected a whole number from 0 to 65535'],
    [{ PORT: '70000' }, 'PORT="70000" is not valid: expected a whole number from 0 to 65535'],
    [{ REPRISE_ENGINE: 'magic' }, 'REPRISE_ENGINE="magic" is not valid: expected one of procedural, acestep'],
    [{ REPRISE_ENGINE: 'acestep' }, 'ACESTEP_URL is required when REPRISE_ENGINE=acestep (e.g. http://gpu-host:8001)'],
    [{ REPRISE_ENGINE: 'acestep', ACESTEP_URL: 'gpu-host:8001' }, 'ACESTEP_URL="gpu-host:8001" is not valid: expected an http:// or https:// URL'],
    [{ REPRISE_MP3_ENCODER: 'lame' }, 'REPRISE_MP3_ENCODER="lame" is not valid: expected one of auto, native, wasm'],
    [{ ACESTEP_TIMEOUT_S: '0' }, 'ACESTEP_TIMEOUT_S="0" is not valid: expected a whole number from 1 to 86400'],
    [{ ACESTEP_POLL_MS: 'fast' }, 'ACESTEP_POLL_MS="fast" is not valid: expected a whole number from 50 to 60000'],
    [{ ACESTEP_REQUEST_TIMEOUT_S: '-5' }, 'ACESTEP_REQUEST_TIMEOUT_S="-5" is not valid: expected a whole number from 1 to 3600'],
    [
      { DATABASE_URL: 'mysql://x' },
      'DATABASE_URL="mysql://x" is not valid: expected postgres://… or sqlite:<file> (or leave it unset for SQLite in the data dir)',
    ],
    [{ REPRISE_PUBLIC_URL: 'ftp://x' }, 'REPRISE_PUBLIC_URL="ftp://x" is not valid: expected an http:// or https:// URL'],
    [
      { REPRISE_CALLBACK_SCHEDULE: '0,five' },
      'REPRISE_CALLBACK_SCHEDULE="0,five" is not valid: expected comma-separated delays in seconds, e.g. 0,5,25 (1 to 50 attempts, each 0 to 604800)',
    ],
    [{ REPRISE_RATE_LIMIT: '20 per 10s' }, 'REPRISE_RATE_LIMIT="20 per 10s" is not valid: expected COUNT/WINDOW, e.g. 20/10s (units ms, s, m, h; count ≥ 1)'],
    [{ REPRISE_REFUNDS: 'maybe' }, 'REPRISE_REFUNDS="maybe" is not valid: expected true or false'],
  ])('stops on %o with one clear line', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes the acestep engine with its URL, key and timeouts', () => {
    const config = loadConfig({
      REPRISE_ENGINE: 'acestep',
      ACESTEP_URL: 'http://gpu-host:8001/',
      ACESTEP_API_KEY: 'k',
      ACESTEP_TIMEOUT_S: '120',
      ACESTEP_POLL_MS: '500',
      ACESTEP_REQUEST_TIMEOUT_S: '30',
    });
    expect(config).toMatchObject({
      engine: 'acestep',
      acestepUrl: 'http://gpu-host:8001',
      acestepApiKey: 'k',
      acestepTimeoutMs: 120_000,
      acestepPollMs: 500,
      acestepRequestTimeoutMs: 30_000,
    });
    expect(loadConfig({})).toMatchObject({ acestepTimeoutMs: 300_000, acestepPollMs: 2000, acestepRequestTimeoutMs: 60_000 });
  });

  it('names the variable for a bad CIDR', () => {
    expect(() => loadConfig({ REPRISE_OUTBOUND_ALLOW: '10.0.0.0/99' })).toThrow(/^REPRISE_OUTBOUND_ALLOW="10.0.0.0\/99" is not valid/);
  });

  it('parses schedules, rate limits and allow-lists', () => {
    const config = loadConfig({ REPRISE_CALLBACK_SCHEDULE: '0,0.2,1', REPRISE_RATE_LIMIT: '5/1m', REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128' });
    expect(config.callbackScheduleMs).toEqual([0, 200, 1000]);
    expect(config.rateLimit).toEqual({ max: 5, windowMs: 60_000 });
    expect(config.outboundAllow).toHaveLength(2);
  });
});
