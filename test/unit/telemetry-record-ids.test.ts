import { describe, expect, it } from 'vitest';
import { decodeColumnarRecords } from '../../runtime/control-plane/ingest/columnar.js';
import { assignRecordId, MetricRow, recordToRow, rowId, rowToRecord } from '../../runtime/gateway/telemetry/metric-row.js';
import { MetricColumnsBatch } from '../../runtime/gateway/telemetry/wire.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Record ids are kept as base + counter in the batch and joined when it is sealed: what the control plane decodes must be what the rows said. */
describe('telemetry: record ids', () => {
  it('are unique UUIDs across a base renewal, and decode to what each row said', () => {
    const template = rowToRecord(Object.assign(new MetricRow(), {
      facts: { organisation_id: 'org', workspace_id: 'ws', api_key_id: 'k', virtual_key: null, config_id: null, config_version: null, prompt_id: null, prompt_version: null, provider: 'openai', model: 'gpt-4o-mini', endpoint: 'chatComplete', method: 'POST', last_used_option_index: null, currency: 'USD', cost_unknown: false, log_location: null, fellBack: false, price: undefined, metadataDefaults: undefined },
      client: { runtime: null, runtimeVersion: null, sdk: null, sdkVersion: null },
      createdAtMs: Date.UTC(2026, 10, 27),
    }));
    const batch = new MetricColumnsBatch(16);
    const expected: string[] = [];
    for (let i = 0; i < 5000; i++) {
      // A record that arrived whole (a spooled format 1 row) keeps its own id; the rest get fresh ones.
      const row = i % 1000 === 7 ? recordToRow({ ...template, id: `whole-id-${i}` }) : recordToRow(template);
      if (i % 1000 !== 7) assignRecordId(row);
      expected.push(rowId(row));
      batch.add(row);
    }
    const decoded = decodeColumnarRecords(JSON.parse(batch.encode({})) as Record<string, unknown>);
    expect(decoded.map((r) => r.id)).toEqual(expected);
    const fresh = expected.filter((id) => !id.startsWith('whole-id-'));
    expect(fresh.length).toBe(4995);
    expect(new Set(fresh).size).toBe(fresh.length);
    expect(fresh.every((id) => UUID.test(id))).toBe(true);
    // 4,995 ids need at least two random bases (4,096 each).
    expect(new Set(fresh.map((id) => id.slice(0, 33))).size).toBeGreaterThanOrEqual(2);
  });
});
