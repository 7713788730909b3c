import { EventEmitter } from 'node:events';

/**
 * A cancel signal undici accepts (it takes any emitter with `aborted` and an 'abort' event).
 * Cheaper than AbortController, which every request would otherwise pay for through
 * EventTarget listeners and a DOMException per abort.
 */
export class CancelSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}
