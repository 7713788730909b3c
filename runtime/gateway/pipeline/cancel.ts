import type { ServerResponse } from 'node:http';

/** Something in flight that stops when the caller goes away (an upstream call). */
export interface CancelTarget {
  cancel(): void;
}

/**
 * Tells the upstream call(s) of one request that the caller left. A plain object with at most a
 * couple of targets: an EventEmitter or AbortController per request costs listener bookkeeping
 * (and a DOMException per abort) on the hot path for an event that rarely happens.
 */
export class CancelSignal {
  aborted = false;
  private targets: CancelTarget[] | undefined = undefined;

  add(target: CancelTarget): void {
    (this.targets ??= []).push(target);
  }

  remove(target: CancelTarget): void {
    const targets = this.targets;
    if (!targets) return;
    const i = targets.indexOf(target);
    if (i !== -1) targets.splice(i, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const targets = this.targets;
    this.targets = undefined;
    if (targets) for (const target of targets) target.cancel();
  }
}

const kSignal = Symbol('tollgate.cancelSignal');
type Watched = ServerResponse & { [kSignal]?: CancelSignal };

/** One function for every response (`this` is the response), so watching costs no closure. */
function onResponseClosed(this: Watched): void {
  // A response that finished normally closes too; only a caller leaving early cancels.
  if (!this.writableFinished) this[kSignal]?.abort();
}

/** A signal fired when the caller closes the connection before its response is finished. */
export function cancelOnClose(res: ServerResponse): CancelSignal {
  const signal = new CancelSignal();
  (res as Watched)[kSignal] = signal;
  res.on('close', onResponseClosed);
  return signal;
}
