/**
 * Merges the Prometheus text of several gateway workers into one exposition: each family's HELP and
 * TYPE once, its samples from every worker together (the format requires a family's lines to be
 * contiguous), each sample labelled `worker="<index>"` so sums and per-worker views are a query away.
 */
export function mergePrometheus(parts: { worker: number; text: string }[]): string {
  const families = new Map<string, { meta: string[]; samples: string[] }>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { meta: [], samples: [] }));
    return f;
  };
  for (const { worker, text } of parts) {
    let current: string | undefined;
    for (const line of text.split('\n')) {
      if (!line) continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        current = meta[2];
        const f = family(current);
        if (!f.meta.some((m) => m.startsWith(`# ${meta[1]} `))) f.meta.push(line);
        continue;
      }
      if (line.startsWith('#')) continue;
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
      if (!name) continue;
      // Histogram and summary samples (_bucket, _sum, _count) belong to the family declared before them.
      const owner = current && (name === current || /^_(bucket|sum|count)$/.test(name.slice(current.length))) && name.startsWith(current) ? current : name;
      const rest = line.slice(name.length);
      const labelled = rest.startsWith('{') ? `${name}{worker="${worker}",${rest.slice(1)}` : `${name}{worker="${worker}"}${rest}`;
      family(owner).samples.push(labelled.replace('{worker="' + worker + '",}', `{worker="${worker}"}`));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) out.push(...f.meta, ...f.samples);
  return out.join('\n') + '\n';
}
