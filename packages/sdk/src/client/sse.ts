/** One Server-Sent Event (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/**
 * An incremental `text/event-stream` parser: feed it text as it arrives, in
 * chunks split anywhere (even between a CR and its LF), and it returns the
 * complete events.
 */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | null = null;

  push(chunk: string): SseMessage[] {
    this.#buffer += chunk;
    const messages: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const char = this.#buffer[i];
      if (char !== '\n' && char !== '\r') continue;
      // A CR at the very end may be the first half of CRLF: wait for the next chunk.
      if (char === '\r' && i === this.#buffer.length - 1) break;
      this.#line(this.#buffer.slice(start, i), messages);
      if (char === '\r' && this.#buffer[i + 1] === '\n') i++;
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return messages;
  }

  /** End of stream: a last line ended by a lone CR is complete; an unfinished event is dropped, as the spec says. */
  end(): SseMessage[] {
    const messages: SseMessage[] = [];
    if (this.#buffer.endsWith('\r')) this.#line(this.#buffer.slice(0, -1), messages);
    this.#buffer = '';
    return messages;
  }

  #line(line: string, messages: SseMessage[]): void {
    if (line === '') {
      if (this.#data.length > 0) messages.push({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
      this.#data = [];
      this.#event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}
