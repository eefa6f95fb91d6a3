import { describe, expect, it } from 'vitest';
import {
  CallbackPayloadError,
  callbackFamilyOf,
  type MarketTaskRecord,
  marketTracksOf,
  parseCallbackPayload,
  parseCoverImagePayload,
  parseMarketResult,
  toSunoTrack,
} from '../src/index.js';

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

  it('upload-cover, upload-extend and add-vocals tracks keep their source_* URLs, in both casings', () => {
    const sourced = {
      ...track,
      source_audio_url: 'https://x/src.mp3',
      source_stream_audio_url: 'https://x/src',
      source_image_url: 'https://x/src.jpeg',
    };
    const payload = { code: 200, msg: 'All generated successfully.', data: { callbackType: 'complete', task_id: 'uc1', data: [sourced] } };
    const parsed = parseCallbackPayload(payload);
    expect(parsed).toEqual(payload);
    if (parsed.data.callbackType === 'error') throw new Error('expected tracks');
    expect(toSunoTrack(parsed.data.data[0] ?? track)).toMatchObject({
      sourceAudioUrl: 'https://x/src.mp3',
      sourceStreamAudioUrl: 'https://x/src',
      sourceImageUrl: 'https://x/src.jpeg',
    });
    // Tracks not made from an upload have no source fields at all, not empty ones.
    expect(Object.keys(toSunoTrack(track))).not.toContain('sourceAudioUrl');
    expect(pathOf({ ...payload, data: { ...payload.data, data: [{ ...sourced, source_image_url: 5 }] } })).toBe('data.data[0].source_image_url');
  });

  it("reads KIE's other failure body: data.data null and the reason only in msg", () => {
    const payload = { code: 501, msg: 'Audio generation failed.', data: { callbackType: 'error', task_id: 'f1', data: null } };
    expect(parseCallbackPayload(payload)).toEqual({
      code: 501,
      msg: 'Audio generation failed.',
      data: { callbackType: 'error', task_id: 'f1', error: 'Audio generation failed.' },
    });
    const both = { code: 531, msg: 'refunded', data: { callbackType: 'error', task_id: 'f1', data: null, error: 'the engine failed' } };
    expect(parseCallbackPayload(both).data).toMatchObject({ error: 'the engine failed' });
  });
});

describe('parseCoverImagePayload', () => {
  it('reads the success body (camelCase data.taskId) and the failure body (images: null)', () => {
    const success = { code: 200, msg: 'success', data: { taskId: 'c1', images: ['https://x/1.png', 'https://x/2.png'] } };
    expect(parseCoverImagePayload(success)).toEqual(success);
    const failure = { code: 501, msg: 'Cover generation failed', data: { taskId: 'c1', images: null } };
    expect(parseCoverImagePayload(failure)).toEqual(failure);
  });

  it('names the offending field; `images` must be present, so another family with data.taskId is not taken for a failed cover', () => {
    const pathOfCover = (value: unknown) => {
      try {
        parseCoverImagePayload(value);
        return 'ok';
      } catch (error) {
        expect(error).toBeInstanceOf(CallbackPayloadError);
        return (error as CallbackPayloadError).path;
      }
    };
    expect(pathOfCover({ code: 200, data: { images: [] } })).toBe('data.taskId');
    expect(pathOfCover({ code: 200, data: { taskId: 'c', images: [1] } })).toBe('data.images');
    expect(pathOfCover({ code: 200, data: { taskId: 'c', voiceId: 'v' } })).toBe('data.images');
    expect(pathOfCover({ code: 200, data: { taskId: 'c', images: [] } })).toBe('ok');
  });

  it('callbackFamilyOf tells the families apart by where the task id is', () => {
    expect(callbackFamilyOf({ code: 200, data: { callbackType: 'complete', task_id: 't', data: [] } })).toBe('music');
    expect(callbackFamilyOf({ code: 200, data: { taskId: 't', images: [] } })).toBe('cover_image');
    expect(callbackFamilyOf({ nonsense: true })).toBe('music');
  });
});

describe('parseMarketResult / marketTracksOf', () => {
  const record = (resultJson: string): MarketTaskRecord => ({
    taskId: 'm1',
    model: 'ai-music-api/generate',
    state: 'success',
    param: '{}',
    resultJson,
    failCode: null,
    failMsg: null,
    costTime: 12,
    completeTime: 1,
    createTime: 0,
  });
  const camel = toSunoTrack(track);

  it('reads the music result, both casings, and prefers sunoData', () => {
    const both = JSON.stringify({ sunoData: [camel], data: [track] });
    expect(parseMarketResult(both)).toEqual({ sunoData: [camel], data: [track] });
    expect(marketTracksOf(record(both))).toEqual([camel]);
    expect(marketTracksOf(record(JSON.stringify({ data: [track] })))).toEqual([camel]);
  });

  it('no result yet is null / []; image results keep resultUrls; garbage is a CallbackPayloadError', () => {
    expect(parseMarketResult(record(''))).toBeNull();
    expect(marketTracksOf(record(''))).toEqual([]);
    expect(parseMarketResult('{"resultUrls":["https://x/a.png"]}')).toEqual({ resultUrls: ['https://x/a.png'] });
    expect(() => parseMarketResult('{nope')).toThrow(CallbackPayloadError);
    expect(() => parseMarketResult('[1]')).toThrow(CallbackPayloadError);
    expect(() => parseMarketResult('{"sunoData":[{"id":""}]}')).toThrow(CallbackPayloadError);
  });
});
