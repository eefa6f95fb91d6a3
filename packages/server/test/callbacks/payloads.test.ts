import { describe, expect, it } from 'vitest';
import { errorPayload, successPayload } from '../../src/callbacks/index.js';

/** The seed document's own examples, byte for byte after JSON round trip. */
const seedSuccess = {
  code: 200,
  msg: 'All generated successfully.',
  data: {
    callbackType: 'complete',
    task_id: '2fac****9f72',
    data: [
      {
        id: 'e231****-****-****-****-****8cadc7dc',
        audio_url: 'https://example.cn/****.mp3',
        stream_audio_url: 'https://example.cn/****',
        image_url: 'https://example.cn/****.jpeg',
        prompt: 'A calm and relaxing piano track.',
        model_name: 'chirp-v3-5',
        title: 'Relaxing Piano',
        tags: 'Jazz',
        createTime: '2025-01-01 00:00:00',
        duration: 198.44,
      },
    ],
  },
};

describe('callback payloads', () => {
  it('builds the seed success example exactly, field order included', () => {
    const track = seedSuccess.data.data[0]!;
    const built = successPayload('complete', '2fac****9f72', [track]);
    expect(JSON.stringify(built)).toBe(JSON.stringify(seedSuccess));
  });

  it('builds failure bodies in the seed shape with the SPEC codes', () => {
    expect(JSON.stringify(errorPayload(531, '2fac****9f72', 'Generation failed due to technical issues'))).toBe(
      '{"code":531,"msg":"Generation failed, credits refunded","data":{"callbackType":"error","task_id":"2fac****9f72","error":"Generation failed due to technical issues"}}',
    );
    // The seed's own failure example uses 501 "Audio generation failed.".
    expect(errorPayload(501, '2fac****9f72', 'Generation failed due to technical issues')).toEqual({
      code: 501,
      msg: 'Audio generation failed.',
      data: { callbackType: 'error', task_id: '2fac****9f72', error: 'Generation failed due to technical issues' },
    });
    for (const code of [400, 408, 500] as const) expect(errorPayload(code, 't', 'e').code).toBe(code);
  });

  it('builds the generate stages', () => {
    expect(successPayload('text', 't1', [])).toEqual({
      code: 200,
      msg: 'Text generation completed successfully.',
      data: { callbackType: 'text', task_id: 't1', data: [] },
    });
    const track = seedSuccess.data.data[0]!;
    expect(successPayload('first', 't1', [track]).data).toEqual({ callbackType: 'first', task_id: 't1', data: [track] });
  });
});
