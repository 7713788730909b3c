import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';

/**
 * The query half of the Timestream fake: `Query` runs the statement it is given, unchanged apart
 * from Timestream's duration literals (`1h`) and `DOUBLE`, over a PGlite table shaped like the
 * Timestream table (time, measure_name, one VARCHAR column per dimension, one column per measure)
 * holding the records WriteRecords received. Presto/Timestream functions the adapter uses are
 * defined in that PGlite: bin, to_milliseconds, from_iso8601_timestamp, approx_percentile (exact
 * here: percentile_cont). `DESCRIBE db.table` answers the columns. Results come in pages with a
 * NextToken, as Timestream's do.
 */
type TsRecord = Record<string, any>;

export interface QueryEngine {
  /** Statements run, in order (DESCRIBE included). */
  statements: string[];
  /** Query calls that carried a NextToken (pages after the first). */
  pagesServed: number;
  run(input: { QueryString?: string; NextToken?: string; MaxRows?: number }): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

const SETUP = `
SET TIME ZONE 'UTC';
CREATE FUNCTION bin(t timestamptz, i interval) RETURNS timestamptz IMMUTABLE LANGUAGE sql AS
  $$ SELECT to_timestamp(floor(extract(epoch FROM t) / extract(epoch FROM i)) * extract(epoch FROM i)) $$;
CREATE FUNCTION to_milliseconds(t timestamptz) RETURNS bigint IMMUTABLE LANGUAGE sql AS $$ SELECT round(extract(epoch FROM t) * 1000)::bigint $$;
CREATE FUNCTION from_iso8601_timestamp(s text) RETURNS timestamptz IMMUTABLE LANGUAGE sql AS $$ SELECT s::timestamptz $$;
CREATE FUNCTION ts_pct_step(state float8[], x float8, p float8) RETURNS float8[] IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN x IS NULL THEN state WHEN state IS NULL THEN ARRAY[p, x] ELSE state || x END $$;
CREATE FUNCTION ts_pct_final(state float8[]) RETURNS float8 IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN state IS NULL THEN NULL ELSE (SELECT percentile_cont(state[1]) WITHIN GROUP (ORDER BY v) FROM unnest(state[2:]) v) END $$;
CREATE AGGREGATE approx_percentile(float8, float8) (SFUNC = ts_pct_step, STYPE = float8[], FINALFUNC = ts_pct_final);
`;

const UNITS: Record<string, string> = { ns: 'nanoseconds', us: 'microseconds', ms: 'milliseconds', s: 'seconds', m: 'minutes', h: 'hours', d: 'days' };
const SQL_TYPE: Record<string, string> = { BIGINT: 'bigint', DOUBLE: 'double precision', BOOLEAN: 'boolean', VARCHAR: 'text', TIMESTAMP: 'timestamptz' };

/** Rewrites outside string literals and quoted identifiers only: a user's value is never touched. */
function translate(sql: string): string {
  const parts = sql.split(/('(?:[^']|'')*'|"(?:[^"]|"")*")/);
  return parts
    .map((part, i) =>
      i % 2
        ? part
        : part
            .replace(/(?<![\w.])(\d+)(ns|us|ms|s|m|h|d)\b/g, (_, n: string, u: string) => `interval '${n} ${UNITS[u]}'`)
            .replace(/\bAS\s+DOUBLE\b/gi, 'AS double precision'),
    )
    .join('');
}

function timeOf(r: TsRecord): string {
  const n = Number(r.Time);
  const ms = { SECONDS: n * 1000, MICROSECONDS: n / 1000, NANOSECONDS: n / 1e6 }[String(r.TimeUnit)] ?? n;
  return new Date(ms).toISOString();
}

function scalarType(dataTypeID: number): string {
  if ([20, 21, 23].includes(dataTypeID)) return 'BIGINT';
  if ([700, 701, 1700].includes(dataTypeID)) return 'DOUBLE';
  if (dataTypeID === 16) return 'BOOLEAN';
  if (dataTypeID === 1184 || dataTypeID === 1114) return 'TIMESTAMP';
  return 'VARCHAR';
}

const validation = (message: string) => ({ status: 400, body: { __type: 'com.amazonaws.timestream.v20181101#ValidationException', message } });

export function queryEngine(records: Map<string, TsRecord[]>, opts: { pageSize?: number } = {}): QueryEngine {
  let pg: Promise<PGlite> | undefined;
  const loaded = new Map<string, number>();
  const columns = new Map<string, [string, string][]>();
  const cursors = new Map<string, { sql: string; rows: unknown[]; columnInfo: unknown[]; at: number }>();

  const db = () =>
    (pg ??= PGlite.create().then(async (p) => {
      await p.exec(SETUP);
      return p;
    }));

  /** (Re)loads one Timestream table into PGlite when WriteRecords added records since the last load. */
  async function load(p: PGlite, key: string): Promise<void> {
    const list = records.get(key) ?? [];
    if (loaded.get(key) === list.length) return;
    const [database, table] = key.split('/');
    const cols = new Map<string, string>([['time', 'TIMESTAMP'], ['measure_name', 'VARCHAR']]);
    const rows = list.map((r) => {
      const row: Record<string, unknown> = { time: timeOf(r), measure_name: r.MeasureName };
      for (const d of r.Dimensions ?? []) {
        cols.set(d.Name, 'VARCHAR');
        row[d.Name] = d.Value;
      }
      const measures = r.MeasureValueType === 'MULTI' ? (r.MeasureValues ?? []) : [{ Name: `measure_value::${String(r.MeasureValueType).toLowerCase()}`, Value: r.MeasureValue, Type: r.MeasureValueType }];
      for (const m of measures) {
        cols.set(m.Name, m.Type);
        row[m.Name] = m.Type === 'BOOLEAN' ? m.Value === 'true' : m.Type === 'VARCHAR' ? m.Value : Number(m.Value);
      }
      return row;
    });
    const schema = `"${database.replace(/"/g, '""')}"`;
    const name = `${schema}."${table.replace(/"/g, '""')}"`;
    const defs = [...cols].map(([c, t]) => `"${c.replace(/"/g, '""')}" ${SQL_TYPE[t] ?? 'text'}`);
    await p.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (${defs.join(', ')});`);
    if (rows.length) await p.query(`INSERT INTO ${name} SELECT * FROM json_populate_recordset(NULL::${name}, $1::json)`, [JSON.stringify(rows)]);
    loaded.set(key, list.length);
    columns.set(key, [...cols]);
  }

  const engine: QueryEngine = {
    statements: [],
    pagesServed: 0,
    async run(input) {
      const pageSize = Math.min(input.MaxRows ?? Infinity, opts.pageSize ?? 1000);
      if (input.NextToken) {
        const cursor = cursors.get(input.NextToken);
        if (!cursor || cursor.sql !== input.QueryString) return validation('NextToken does not belong to this query string');
        cursors.delete(input.NextToken);
        engine.pagesServed++;
        return page(cursor.sql, cursor.rows, cursor.columnInfo, cursor.at, pageSize);
      }
      const sql = String(input.QueryString ?? '').trim();
      if (!sql) return validation('QueryString is required');
      engine.statements.push(sql);
      const p = await db();
      for (const key of records.keys()) await load(p, key);
      const describe = /^DESCRIBE\s+"((?:[^"]|"")+)"\."((?:[^"]|"")+)"$/i.exec(sql);
      if (describe) {
        const key = `${describe[1].replace(/""/g, '"')}/${describe[2].replace(/""/g, '"')}`;
        // The table exists before anything was written to it (the CDK creates it): time and measure_name only.
        if (!records.has(key)) {
          records.set(key, []);
          await load(p, key);
        }
        const cols = columns.get(key);
        if (!cols) return { status: 400, body: { __type: 'com.amazonaws.timestream.v20181101#ResourceNotFoundException', message: `table ${key} not found` } };
        const kind = (c: string) => (c === 'time' ? 'TIMESTAMP' : c === 'measure_name' ? 'MEASURE_NAME' : cols.find(([n]) => n === c)?.[1] === 'VARCHAR' ? 'DIMENSION' : 'MULTI');
        const rows = cols.map(([c, t]) => ({ Data: [{ ScalarValue: c }, { ScalarValue: t.toLowerCase() }, { ScalarValue: kind(c) }] }));
        const info = ['Column', 'Type', 'Timestream attribute type'].map((Name) => ({ Name, Type: { ScalarType: 'VARCHAR' } }));
        return page(sql, rows, info, 0, pageSize);
      }
      let result;
      try {
        result = await p.query<Record<string, unknown>>(translate(sql), [], { rowMode: 'object' });
      } catch (err) {
        return validation(`line 1: ${(err as Error).message}`);
      }
      const fields = result.fields;
      const info = fields.map((f) => ({ Name: f.name, Type: { ScalarType: scalarType(f.dataTypeID) } }));
      const rows = result.rows.map((r) => ({
        Data: fields.map((f) => {
          const v = r[f.name];
          if (v === null || v === undefined) return { NullValue: true };
          return { ScalarValue: v instanceof Date ? v.toISOString().replace('T', ' ').replace('Z', '000000') : String(v) };
        }),
      }));
      return page(sql, rows, info, 0, pageSize);
    },
    async close() {
      if (pg) await (await pg).close();
    },
  };

  function page(sql: string, rows: unknown[], columnInfo: unknown[], at: number, size: number) {
    const body: Record<string, unknown> = { QueryId: randomUUID(), Rows: rows.slice(at, at + size), ColumnInfo: columnInfo, QueryStatus: { ProgressPercentage: 100 } };
    if (at + size < rows.length) {
      const token = randomUUID();
      cursors.set(token, { sql, rows, columnInfo, at: at + size });
      body.NextToken = token;
    }
    return { status: 200, body };
  }

  return engine;
}
