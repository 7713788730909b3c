import { createServer } from 'node:http';
import { Pool } from 'undici';

/**
 * The floor for a Node gateway: node:http in, an undici keep-alive Pool out, no logic at all. The
 * request body is read and forwarded; a small JSON answer goes back in one write, a stream chunk by
 * chunk. UPSTREAM is the mock's origin; the caller's path is kept.
 */
const upstream = process.env.UPSTREAM!;
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', async () => {
    try {
      const up = await pool.request({
        method: 'POST',
        path: req.url!,
        headers: { 'content-type': 'application/json', authorization: String(req.headers.authorization ?? '') },
        body: parts.length === 1 ? parts[0] : Buffer.concat(parts),
      });
      const type = String(up.headers['content-type'] ?? '');
      if (!type.includes('event-stream')) {
        const buf = Buffer.from(await up.body.arrayBuffer());
        res.writeHead(up.statusCode, { 'content-type': type, 'content-length': buf.length });
        return res.end(buf);
      }
      res.writeHead(up.statusCode, { 'content-type': type, 'cache-control': 'no-cache' });
      for await (const c of up.body) res.write(c);
      res.end();
    } catch {
      res.destroy();
    }
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
