import { describe, expect, it } from 'vitest';
import { mergePrometheus } from '../../runtime/gateway/cluster/prometheus-merge.js';

const worker = (requests: number, bucket: number) =>
  [
    '# HELP tollgate_requests_total Requests.',
    '# TYPE tollgate_requests_total counter',
    `tollgate_requests_total{status="200"} ${requests}`,
    '# HELP tollgate_latency_seconds Latency.',
    '# TYPE tollgate_latency_seconds histogram',
    `tollgate_latency_seconds_bucket{le="0.1"} ${bucket}`,
    `tollgate_latency_seconds_sum 0.5`,
    `tollgate_latency_seconds_count ${bucket}`,
    'tollgate_sync_age_seconds 3',
    '',
  ].join('\n');

describe('mergePrometheus', () => {
  const merged = mergePrometheus([
    { worker: 0, text: worker(5, 2) },
    { worker: 1, text: worker(7, 4) },
  ]);
  const lines = merged.trim().split('\n');

  it('labels every sample with its worker, inside existing labels or as the only one', () => {
    expect(lines).toContain('tollgate_requests_total{worker="0",status="200"} 5');
    expect(lines).toContain('tollgate_requests_total{worker="1",status="200"} 7');
    expect(lines).toContain('tollgate_latency_seconds_sum{worker="1"} 0.5');
    expect(lines).toContain('tollgate_sync_age_seconds{worker="0"} 3');
  });

  it('keeps one HELP and TYPE per family and each family contiguous', () => {
    expect(lines.filter((l) => l.startsWith('# HELP tollgate_requests_total'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('# TYPE tollgate_latency_seconds'))).toHaveLength(1);
    const family = lines.map((l) => (l.startsWith('#') ? l.split(' ')[2] : l.split(/[{ ]/)[0].replace(/_(bucket|sum|count)$/, '')));
    const seen = new Set<string>();
    for (let i = 0; i < family.length; i++) {
      if (i > 0 && family[i] !== family[i - 1]) {
        expect(seen.has(family[i])).toBe(false);
        seen.add(family[i - 1]);
      }
    }
    expect(lines.indexOf('tollgate_latency_seconds_count{worker="1"} 4')).toBeLessThan(lines.indexOf('tollgate_sync_age_seconds{worker="0"} 3'));
  });
});
