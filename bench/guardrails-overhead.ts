/**
 * Guardrail overhead: five regex/PII checks on a 2 KB prompt, run by the gateway's hook engine
 * exactly as a request runs them (hook results, timings, redaction of the request body included).
 * Target (issue 9): < 0.2 ms p50. Writes its table into bench/README.md between the GUARDRAILS markers.
 *
 *   node ./bin/run-ts.mjs bench/guardrails-overhead.ts      (BENCH_ITERATIONS, default 20000)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { runPhase } from '../runtime/gateway/guardrails/engine.js';
import { configHooks } from '../runtime/gateway/guardrails/hooks.js';
import { requestText, rewriteRequest } from '../runtime/gateway/guardrails/text.js';

const SENTENCES = [
  'Please summarise the quarterly report for the operations team and highlight any risks.',
  'The warehouse in Rotterdam shipped 1,240 pallets last week, up 4% on the previous week.',
  'Contact the account manager at jane.doe@example.com or on +44 20 7946 0958 if anything is unclear.',
  'Our customer asked whether invoice 2024-118 was paid from IBAN DE89 3704 0044 0532 0130 00.',
  'Keep the tone friendly and avoid jargon; the audience is the regional sales staff.',
  'List three follow-up actions, each with an owner and a due date in the next two weeks.',
];
let prompt = '';
for (let i = 0; prompt.length < 2048; i++) prompt += `${SENTENCES[i % SENTENCES.length]} `;
prompt = prompt.slice(0, 2048);

const config = {
  virtual_key: 'bench',
  input_guardrails: [
    {
      'default.regexMatch': { rule: '\\b(?:password|secret|api[_-]?key)\\s*[:=]', not: true },
      'default.contains': { words: ['confidential', 'internal only', 'do not share'], operator: 'none' },
      'default.pii': { categories: ['credit_card', 'ssn'] },
      'default.promptInjection': {},
      'portkey.pii': { categories: ['email', 'phone', 'iban'], redact: true },
    },
  ],
};
const hooks = configHooks(config, { get: () => undefined }).before;
const checks = hooks.reduce((n, h) => n + h.checks.length, 0);
if (checks !== 5) throw new Error(`expected 5 checks, got ${checks}`);

const body = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: prompt }] };
const input = () => ({
  base: { phase: 'request' as const, model: 'gpt-4o-mini', metadata: {} },
  json: body,
  text: (j: unknown) => requestText(j as Record<string, unknown>),
  rewrite: (j: unknown, fn: (t: string) => string) => rewriteRequest(j as Record<string, unknown>, fn),
});

const iterations = Number(process.env.BENCH_ITERATIONS ?? 20_000);
for (let i = 0; i < 2000; i++) await runPhase(hooks, input());
const samples = new Float64Array(iterations);
let sink = 0;
for (let i = 0; i < iterations; i++) {
  const t0 = process.hrtime.bigint();
  const out = await runPhase(hooks, input());
  samples[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  sink += out.results.length;
}
samples.sort();
const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
const check = await runPhase(hooks, input());
const redacted = JSON.stringify(check.json);
if (!redacted.includes('[REDACTED_EMAIL]') || !redacted.includes('[REDACTED_IBAN]')) throw new Error('redaction did not happen');

const p50 = pct(50);
const row = {
  p50: p50.toFixed(4),
  p90: pct(90).toFixed(4),
  p99: pct(99).toFixed(4),
  target: p50 < 0.2 ? 'met' : 'NOT met',
};
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
const table = [
  `Five checks (regex, blocklist, PII detect, prompt injection, PII redact) on a ${prompt.length}-byte prompt; ${iterations} runs after 2,000 warm-up; ${machine}; ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '| p50 (ms) | p90 (ms) | p99 (ms) | target p50 < 0.2 ms |',
  '| ---: | ---: | ---: | :---: |',
  `| ${row.p50} | ${row.p90} | ${row.p99} | ${row.target} |`,
].join('\n');
console.log(table);
if (sink < 0) console.log(sink);

const readme = new URL('./README.md', import.meta.url);
const text = await readFile(readme, 'utf8');
const start = '<!-- GUARDRAILS:START -->';
const end = '<!-- GUARDRAILS:END -->';
if (text.includes(start) && text.includes(end)) {
  await writeFile(readme, text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), `${start}\n${table}\n${end}`));
}
if (p50 >= 0.2) process.exitCode = 1;
