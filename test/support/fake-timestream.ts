import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { queryEngine, type QueryEngine } from './fake-timestream-query.js';

/**
 * A local stand-in for Timestream's ingestion API, speaking its wire protocol: AWS JSON 1.0 over
 * HTTP POST `/`, the operation in `X-Amz-Target: Timestream_20181101.<Operation>`, SigV4-signed.
 * It answers endpoint discovery (`DescribeEndpoints`, pointing at itself) and `WriteRecords`, and
 * like Timestream it ignores a record equal to one it already has (same dimensions, time, measures).
 * `Query` runs SQL over the records received (fake-timestream-query.ts), in pages of `pageSize` rows.
 */
export interface FakeTimestream {
  url: string;
  calls: { target: string; contentType: string; signed: boolean }[];
  /** Unique records by database/table. */
  records: Map<string, Record<string, unknown>[]>;
  /** The Query side: statements run and pages served after the first. */
  query: QueryEngine;
  close(): Promise<void>;
}

export async function startFakeTimestream(opts: { pageSize?: number } = {}): Promise<FakeTimestream> {
  const seen = new Set<string>();
  const records = new Map<string, Record<string, unknown>[]>();
  const fake: FakeTimestream = { url: '', calls: [], records, query: queryEngine(records, opts), close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      fake.calls.push({ target, contentType: String(req.headers['content-type'] ?? ''), signed: /^AWS4-HMAC-SHA256 /.test(String(req.headers.authorization ?? '')) });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${fake.calls.length}` }).end(JSON.stringify(body));
      };
      let input: Record<string, any>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return send(400, { __type: 'com.amazonaws.timestream.v20181101#ValidationException', message: 'bad JSON' });
      }
      if (req.method !== 'POST' || req.url !== '/') return send(404, { __type: 'UnknownOperationException' });
      if (target === 'Timestream_20181101.DescribeEndpoints') {
        const { port } = server.address() as AddressInfo;
        return send(200, { Endpoints: [{ Address: `127.0.0.1:${port}`, CachePeriodInMinutes: 1440 }] });
      }
      if (target === 'Timestream_20181101.Query') {
        fake.query.run(input).then(
          (r) => send(r.status, r.body),
          (err: Error) => send(500, { __type: 'com.amazonaws.timestream.v20181101#InternalServerException', message: err.message }),
        );
        return;
      }
      if (target === 'Timestream_20181101.WriteRecords') {
        const records = (input.Records ?? []) as Record<string, any>[];
        if (!input.DatabaseName || !input.TableName) return send(400, { __type: 'com.amazonaws.timestream.v20181101#ValidationException', message: 'DatabaseName and TableName are required' });
        if (records.length < 1 || records.length > 100) return send(400, { __type: 'com.amazonaws.timestream.v20181101#ValidationException', message: 'Records must hold 1 to 100 records' });
        const table = `${input.DatabaseName}/${input.TableName}`;
        const list = fake.records.get(table) ?? [];
        for (const r of records) {
          const merged = { ...input.CommonAttributes, ...r };
          const key = JSON.stringify([table, [...(merged.Dimensions ?? [])].sort((a: any, b: any) => a.Name.localeCompare(b.Name)), merged.Time, merged.MeasureName, merged.MeasureValues]);
          if (seen.has(key)) continue;
          seen.add(key);
          list.push(merged);
        }
        fake.records.set(table, list);
        return send(200, { RecordsIngested: { Total: records.length, MemoryStore: records.length, MagneticStore: 0 } });
      }
      send(400, { __type: 'com.amazonaws.timestream.v20181101#ValidationException', message: `unsupported operation ${target}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
    await fake.query.close();
  };
  return fake;
}
