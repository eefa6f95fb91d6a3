import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../src/index.js';

const parseAll = (chunks: string[]) => {
  const parser = new SseParser();
  return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()];
};

describe('SseParser', () => {
  it('reads reprise task events, skipping comments (heartbeats)', () => {
    const stream = 'event: status\ndata: {"taskId":"t","status":"PENDING"}\n\n: keep-alive\n\nevent: status\ndata: {"taskId":"t","status":"SUCCESS"}\n\n';
    expect(parseAll([stream])).toEqual([
      { event: 'status', data: '{"taskId":"t","status":"PENDING"}', id: null },
      { event: 'status', data: '{"taskId":"t","status":"SUCCESS"}', id: null },
    ]);
  });

  it('follows the spec: multi-line data, default event name, CR / CRLF line ends, no space after the colon, ids', () => {
    expect(parseAll(['data:a\r\ndata: b\r\rid: 7\nevent:x\ndata\n\n', 'data: unfinished'])).toEqual([
      { event: 'message', data: 'a\nb', id: null },
      { event: 'x', data: '', id: '7' },
    ]);
  });

  it('property: however the stream is cut into chunks, the events are the same', () => {
    const line = fc.oneof(
      fc.constantFrom('event: status', 'data: {"s":1}', ': c', 'id: 1', 'data', 'retry: 10'),
      fc.string({ maxLength: 8 }).filter((s) => !/[\r\n]/.test(s)),
    );
    const stream = fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n', '\r')), { maxLength: 30 }).map((lines) => lines.map(([l, end]) => l + end).join(''));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (text, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let last = 0;
        for (const point of points) {
          chunks.push(text.slice(last, point));
          last = point;
        }
        chunks.push(text.slice(last));
        expect(parseAll(chunks)).toEqual(parseAll([text]));
      }),
      { numRuns: 500 },
    );
  });
});
