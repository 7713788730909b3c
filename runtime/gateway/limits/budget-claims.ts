import { BUDGET_CLAIMS_GRANTED_HEADER, BUDGET_CLAIMS_HEADER, claimKey, decodeClaims, encodeClaims, type BudgetClaim } from '../../core/budget-usage.js';

type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * Budget events wait for the control plane's word before they fire: each is claimed on the next
 * pull (asked for at once), and fires only if granted, so gateways that share no Redis fire an
 * alert once between them. A pull answered without a verdict (an older or failing control plane)
 * fires it at once, and a pull that gets no answer fires it after `timeoutMs`: an alert that fires
 * twice beats one that never does.
 */
export interface BudgetClaims {
  claim(claim: BudgetClaim, fire: () => void): void;
  /** Request headers for the next pull; remembers which claims that pull carries. */
  pullHeaders(): Record<string, string>;
  /** The pull's answer (200 or 304). */
  accept(headers: HeaderBag): void;
}

export function budgetClaims(opts: { requestSync: () => void; timeoutMs?: number }): BudgetClaims {
  const pending = new Map<string, { claim: BudgetClaim; fire: () => void; timer: NodeJS.Timeout }>();
  let sent: string[] = [];
  const fire = (key: string) => {
    const p = pending.get(key);
    if (!p) return;
    pending.delete(key);
    clearTimeout(p.timer);
    p.fire();
  };
  return {
    claim(claim, onGrant) {
      const key = claimKey(claim);
      if (pending.has(key)) return;
      const timer = setTimeout(() => fire(key), opts.timeoutMs ?? 60_000);
      timer.unref();
      pending.set(key, { claim, fire: onGrant, timer });
      opts.requestSync();
    },
    pullHeaders() {
      sent = [...pending.keys()].slice(0, 100);
      const headers: Record<string, string> = {};
      if (sent.length) headers[BUDGET_CLAIMS_HEADER] = encodeClaims(sent.map((k) => pending.get(k)!.claim));
      return headers;
    },
    accept(headers) {
      if (!sent.length) return;
      const carried = sent;
      sent = [];
      const raw = headers[BUDGET_CLAIMS_GRANTED_HEADER];
      const value = Array.isArray(raw) ? raw[0] : raw;
      // The control plane did not answer the claims (it predates them, or could not record them): fire.
      if (value === undefined) {
        for (const key of carried) fire(key);
        return;
      }
      const granted = new Set(decodeClaims(value).map(claimKey));
      for (const key of carried) {
        if (granted.has(key)) fire(key);
        else {
          // Another gateway was granted it: this one stays silent.
          const p = pending.get(key);
          if (p) clearTimeout(p.timer);
          pending.delete(key);
        }
      }
    },
  };
}
