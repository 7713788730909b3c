import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/**
 * AWS event-stream framing (application/vnd.amazon.eventstream), decoded with Smithy's codec (CRC
 * checks included). Bytes arrive in arbitrary pieces; each whole message becomes one event
 * `{ event: ':event-type', data: body }`, or `{ event: 'exception:<type>' }` for modelled errors.
 */
export const eventStreamCodec = new EventStreamCodec(toUtf8, fromUtf8);

export class EventStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onEvent: (event: { event?: string; data: string }) => void) {}

  feed(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 4) {
      const total = this.pending.readUInt32BE(0);
      if (total < 16) throw new Error('malformed AWS event-stream message');
      if (this.pending.length < total) return;
      const message = eventStreamCodec.decode(new Uint8Array(this.pending.buffer, this.pending.byteOffset, total));
      this.pending = this.pending.subarray(total);
      const header = (name: string) => {
        const h = message.headers[name];
        return h && h.type === 'string' ? h.value : undefined;
      };
      const type = header(':message-type');
      const data = toUtf8(message.body);
      if (type === 'exception' || type === 'error') this.onEvent({ event: `exception:${header(':exception-type') ?? header(':error-code') ?? 'unknown'}`, data: data || JSON.stringify({ message: header(':error-message') ?? 'stream error' }) });
      else this.onEvent({ event: header(':event-type'), data });
    }
  }
}

/** Encodes one event (used by tests' Bedrock mock, which must speak the exact framing). */
export function encodeEvent(eventType: string, payload: unknown, messageType: 'event' | 'exception' = 'event'): Uint8Array {
  const headers: Record<string, { type: 'string'; value: string }> = {
    ':message-type': { type: 'string', value: messageType },
    ':content-type': { type: 'string', value: 'application/json' },
  };
  headers[messageType === 'event' ? ':event-type' : ':exception-type'] = { type: 'string', value: eventType };
  return eventStreamCodec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) });
}
