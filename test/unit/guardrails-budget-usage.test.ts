import { describe, expect, it } from 'vitest';
import {
  BUDGET_CLAIMS_GRANTED_HEADER,
  BUDGET_CLAIMS_HEADER,
  BUDGET_USAGE_HEADER,
  BUDGET_USAGE_SIGNATURE_HEADER,
  budgetPeriod,
  decodeBudgetUsage,
  decodeClaims,
  encodeBudgetUsage,
  encodeClaims,
  type BudgetUsageEntry,
} from '../../runtime/core/budget-usage.js';
import { hashSecret } from '../../runtime/core/secrets.js';
import { deriveSyncKey, signBody } from '../../runtime/core/sync-integrity.js';
import { budgetClaims } from '../../runtime/gateway/limits/budget-claims.js';
import { reconciledUsage } from '../../runtime/gateway/limits/reconciled-usage.js';

const TOKEN = 'dp-token-for-unit-tests';
const sign = (value: string, token = TOKEN) => signBody(deriveSyncKey(hashSecret(token), 'payload'), value);

describe('budget usage on the heartbeat', () => {
  it('round-trips entries, ids with separators included, and drops malformed parts', () => {
    const entries: BudgetUsageEntry[] = [
      { scope: 'api_key', id: 'key_0', type: 'cost', period: '2025-06', used: 12.345678912 },
      { scope: 'virtual_key', id: 'odd:slug,with%chars', type: 'tokens', period: '2025-06-14', used: 40.4 },
    ];
    const wire = encodeBudgetUsage(entries);
    expect(wire).toBe('a:c:2025-06:12.34567891:key_0,v:t:2025-06-14:40:odd%3Aslug%2Cwith%25chars');
    expect(decodeBudgetUsage(wire)).toEqual([
      { ...entries[0], used: 12.34567891 },
      { ...entries[1], used: 40 },
    ]);
    expect(decodeBudgetUsage(`x:c:p:1:id,a:q:p:1:id,a:c:p:-1:id,a:c:p:NaN:id,a:c::1:id,a:c:p:1:%E0%A4%A,${wire}`)).toHaveLength(2);
  });

  it('stops at the size cap, keeping the first (most urgent) entries', () => {
    const many = Array.from({ length: 500 }, (_, i): BudgetUsageEntry => ({ scope: 'virtual_key', id: `vk-${i}`, type: 'tokens', period: 'all', used: 1000 - i }));
    const wire = encodeBudgetUsage(many, 200);
    expect(wire.length).toBeLessThanOrEqual(200);
    const back = decodeBudgetUsage(wire);
    expect(back.length).toBeGreaterThan(3);
    expect(back[0].id).toBe('vk-0');
  });

  it('names periods with their start as well as their reset', () => {
    const t = Date.UTC(2025, 5, 14, 15, 30); // a Saturday
    expect(budgetPeriod('daily', t)).toEqual({ id: '2025-06-14', startsAt: Date.UTC(2025, 5, 14), resetsAt: Date.UTC(2025, 5, 15) });
    expect(budgetPeriod('weekly', t)).toEqual({ id: 'w2025-06-09', startsAt: Date.UTC(2025, 5, 9), resetsAt: Date.UTC(2025, 5, 16) });
    expect(budgetPeriod('monthly', t)).toEqual({ id: '2025-06', startsAt: Date.UTC(2025, 5, 1), resetsAt: Date.UTC(2025, 6, 1) });
    expect(budgetPeriod(undefined, t)).toEqual({ id: 'all', startsAt: 0 });
  });

  it('the gateway takes a signed report, ignores a forged or foreign one, and keeps its figures when a heartbeat carries none', () => {
    const usage = reconciledUsage(TOKEN, () => 42);
    const value = encodeBudgetUsage([{ scope: 'virtual_key', id: 'vk', type: 'tokens', period: '2025-06-14', used: 30 }]);
    usage.accept({ [BUDGET_USAGE_HEADER]: value, [BUDGET_USAGE_SIGNATURE_HEADER]: sign(value) });
    expect(usage.get('virtual_key', 'vk', 'tokens', '2025-06-14')).toBe(30);
    expect(usage.get('virtual_key', 'vk', 'tokens', '2025-06-15')).toBe(0);
    expect(usage.get('virtual_key', 'vk', 'cost', '2025-06-14')).toBe(0);
    expect(usage.get('api_key', 'vk', 'tokens', '2025-06-14')).toBe(0);
    expect(usage.updatedAt).toBe(42);

    const forged = encodeBudgetUsage([{ scope: 'virtual_key', id: 'vk', type: 'tokens', period: '2025-06-14', used: 1 }]);
    usage.accept({ [BUDGET_USAGE_HEADER]: forged, [BUDGET_USAGE_SIGNATURE_HEADER]: sign(forged, 'another-credential') });
    usage.accept({ [BUDGET_USAGE_HEADER]: forged });
    usage.accept({});
    expect(usage.get('virtual_key', 'vk', 'tokens', '2025-06-14')).toBe(30);

    // A later signed report replaces the picture.
    const next = encodeBudgetUsage([{ scope: 'api_key', id: 'key_0', type: 'cost', period: '2025-06', used: 2.5 }]);
    usage.accept({ [BUDGET_USAGE_HEADER]: next, [BUDGET_USAGE_SIGNATURE_HEADER]: sign(next) });
    expect(usage.get('api_key', 'key_0', 'cost', '2025-06')).toBe(2.5);
    expect(usage.get('virtual_key', 'vk', 'tokens', '2025-06-14')).toBe(0);
  });
});

describe('budget event claims', () => {
  const claim = { scope: 'virtual_key' as const, id: 'vk:1', type: 'tokens' as const, period: '2025-06', kind: 'alert' as const };

  it('fires only what the control plane grants; asks for a pull at once', () => {
    let pulls = 0;
    const claims = budgetClaims({ requestSync: () => pulls++ });
    const fired: string[] = [];
    claims.claim(claim, () => fired.push('alert'));
    claims.claim({ ...claim, kind: 'exhausted' }, () => fired.push('exhausted'));
    claims.claim(claim, () => fired.push('duplicate'));
    expect(pulls).toBe(2);
    const sent = claims.pullHeaders()[BUDGET_CLAIMS_HEADER];
    expect(decodeClaims(sent)).toEqual([claim, { ...claim, kind: 'exhausted' }]);
    claims.accept({ [BUDGET_CLAIMS_GRANTED_HEADER]: encodeClaims([claim]) });
    expect(fired).toEqual(['alert']);
    // Refused ones are dropped: nothing left to send.
    expect(claims.pullHeaders()).toEqual({});
  });

  it('fires at once when the answer has no verdict, and after the timeout when no answer comes', async () => {
    const fired: string[] = [];
    const claims = budgetClaims({ requestSync: () => {}, timeoutMs: 30 });
    claims.claim(claim, () => fired.push('a'));
    claims.pullHeaders();
    claims.accept({});
    expect(fired).toEqual(['a']);
    claims.claim({ ...claim, period: '2025-07' }, () => fired.push('b'));
    claims.pullHeaders();
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toEqual(['a', 'b']);
    claims.accept({ [BUDGET_CLAIMS_GRANTED_HEADER]: '-' });
    expect(fired).toEqual(['a', 'b']);
  });
});
