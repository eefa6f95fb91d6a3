import { describe, expect, it } from 'vitest';
import { CallbackPayloadError, parseCallbackPayload, toSunoTrack } from '../src/index.js';

const track = {
  id: 'e231',
  audio_url: 'https://x/a.mp3',
  stream_audio_url: 'https://x/a',
  image_url: 'https://x/a.jpeg',
  prompt: 'A calm and relaxing piano track.',
  model_name: 'chirp-v3-5',
  title: 'Relaxing Piano',
  tags: 'Jazz',
  createTime: '2025-01-01 00:00:00',
  duration: 198.44,
};

function pathOf(value: unknown): string {
  try {
    parseCallbackPayload(value);
  } catch (error) {
    expect(error).toBeInstanceOf(CallbackPayloadError);
    return (error as CallbackPayloadError).path;
  }
  return 'ok';
}

describe('parseCallbackPayload (SPEC §5.2)', () => {
  it('reads the seed success example exactly', () => {
    const payload = { code: 200, msg: 'All generated successfully.', data: { callbackType: 'complete', task_id: '2fac', data: [track] } };
    expect(parseCallbackPayload(payload)).toEqual(payload);
  });

  it('reads the seed failure example', () => {
    const payload = {
      code: 501,
      msg: 'Audio generation failed.',
      data: { callbackType: 'error', task_id: '2fac', error: 'Generation failed due to technical issues' },
    };
    expect(parseCallbackPayload(payload)).toEqual(payload);
  });

  it('the text stage has no tracks; extra fields are ignored; nulls become empty values', () => {
    expect(
      parseCallbackPayload({ code: 200, msg: 'Text generation completed successfully.', data: { callbackType: 'text', task_id: 't', data: [] } }).data,
    ).toEqual({ callbackType: 'text', task_id: 't', data: [] });
    const lenient = parseCallbackPayload({
      code: 200,
      msg: 'x',
      extra: 1,
      data: { callbackType: 'first', task_id: 't', data: [{ id: 'a', image_url: null, duration: null, extra: true }] },
    });
    expect(lenient.data).toMatchObject({ data: [{ id: 'a', image_url: '', duration: 0, audio_url: '' }] });
  });

  it('a non-200 code is a failure even with another callbackType', () => {
    expect(parseCallbackPayload({ code: 500, msg: 'Internal error', data: { callbackType: 'complete', task_id: 't' } }).data).toEqual({
      callbackType: 'error',
      task_id: 't',
      error: 'Internal error',
    });
  });

  it('names the offending field', () => {
    expect(pathOf(null)).toBe('(body)');
    expect(pathOf({ code: '200', data: {} })).toBe('code');
    expect(pathOf({ code: 200, data: [] })).toBe('data');
    expect(pathOf({ code: 200, data: { callbackType: 'complete' } })).toBe('data.task_id');
    expect(pathOf({ code: 200, data: { callbackType: 'done', task_id: 't' } })).toBe('data.callbackType');
    expect(pathOf({ code: 200, data: { callbackType: 'complete', task_id: 't', data: {} } })).toBe('data.data');
    expect(pathOf({ code: 200, data: { callbackType: 'complete', task_id: 't', data: [{ ...track, duration: '1' }] } })).toBe('data.data[0].duration');
    expect(pathOf({ code: 200, data: { callbackType: 'complete', task_id: 't', data: [{ ...track, id: 3 }] } })).toBe('data.data[0].id');
    expect(pathOf({ code: 200, data: { callbackType: 'complete', task_id: 't', data: [{ ...track, title: 3 }] } })).toBe('data.data[0].title');
  });

  it('converts callback tracks to record-info tracks', () => {
    expect(toSunoTrack(track)).toEqual({
      id: 'e231',
      audioUrl: 'https://x/a.mp3',
      streamAudioUrl: 'https://x/a',
      imageUrl: 'https://x/a.jpeg',
      prompt: 'A calm and relaxing piano track.',
      modelName: 'chirp-v3-5',
      title: 'Relaxing Piano',
      tags: 'Jazz',
      createTime: '2025-01-01 00:00:00',
      duration: 198.44,
    });
  });
});
