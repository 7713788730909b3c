import { Command, InvalidArgumentError } from 'commander';
import { TOLLGATE_VERSION } from '../runtime/core/version.js';
import { startDev } from '../runtime/dev.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError('must be a number of seconds, at least 1');
  return n;
}

/** Stops on the first SIGINT/SIGTERM; a second signal forces exit so a stuck close never traps the user. */
function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) process.exit(1);
    closing = true;
    process.stderr.write(`\n${signal} received, shutting down (press Ctrl-C again to force)...\n`);
    close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function fail(err: unknown): never {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e.code === 'EADDRINUSE') {
    process.stderr.write(`error: port ${e.port ?? ''} is already in use. Stop the other process or pick another port with --port / --control-plane-port.\n`);
  } else {
    process.stderr.write(`error: ${e.message}\n`);
  }
  process.exit(1);
}

const program = new Command('tollgate').version(TOLLGATE_VERSION).description('Tollgate hybrid AI gateway');

program
  .command('dev')
  .description('run the control plane, the gateway and the UI on this machine, with embedded defaults and no cloud')
  .option('--port <port>', 'gateway port', port, 8787)
  .option('--control-plane-port <port>', 'control plane API port', port, 8788)
  .option('--data-dir <dir>', 'where the database, keyring, logs and credentials live', './.tollgate')
  .option('--sync-interval <seconds>', 'gateway heartbeat interval', seconds, 30)
  .action(async (opts: { port: number; controlPlanePort: number; dataDir: string; syncInterval: number }) => {
    process.stderr.write(`starting tollgate ${TOLLGATE_VERSION} (data in ${opts.dataDir})...\n`);
    const dev = await startDev({
      port: opts.port,
      controlPlanePort: opts.controlPlanePort,
      dataDir: opts.dataDir,
      syncIntervalSeconds: opts.syncInterval,
      adminApiKey: process.env.TOLLGATE_ADMIN_API_KEY || undefined,
    }).catch(fail);
    const { gatewayUrl, controlPlaneUrl, adminApiKey, ownerEmail, ownerPassword } = dev.credentials;
    process.stdout.write(
      [
        '',
        `  Gateway        ${gatewayUrl}/v1`,
        `  Control plane  ${controlPlaneUrl}/v1`,
        `  Control panel  ${controlPlaneUrl}/  (${ownerEmail}${ownerPassword ? ` / ${ownerPassword}` : ''}, or the admin API key)`,
        `  Admin API key  ${adminApiKey}`,
        `  Credentials    ${opts.dataDir}/credentials.json`,
        '',
        '  Ctrl-C to stop.',
        '',
      ].join('\n') + '\n',
    );
    onShutdown(dev.close);
  });

program
  .command('control-plane')
  .description('run only the control plane API (PGlite in --data-dir, or Postgres from DATABASE_URL)')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'API port', port, 8788)
  .option('--data-dir <dir>', 'PGlite database and keyring folder', './.tollgate')
  .action(async (opts: { host: string; port: number; dataDir: string }) => {
    const { runControlPlane } = await import('../runtime/standalone.js');
    const running = await runControlPlane(opts).catch(fail);
    process.stdout.write(`control plane listening on ${running.url}/v1\nadmin API key and data-plane token: ${running.credentialsFile}\n`);
    onShutdown(running.close);
  });

program
  .command('gateway')
  .description('run only the gateway; reads its credential from TOLLGATE_DATA_PLANE_TOKEN')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'gateway port', port, 8787)
  .requiredOption('--control-plane-url <url>', 'control plane base URL, e.g. https://cp.example.com')
  .option('--cache <kind>', 'memory | redis', 'memory')
  .option('--redis-url <url>', 'redis:// or rediss:// URL when --cache redis')
  .option('--sync-interval <seconds>', 'heartbeat interval', seconds, 30)
  .option('--keyring-file <file>', 'local AES keyring (dev); in AWS set TOLLGATE_KMS_KEY_ARN instead')
  .option('--log-dir <dir>', 'file log store folder')
  .option('--snapshot-file <file>', 'keep the last good snapshot here (encrypted, 0600) when there is no Redis')
  .option('--spool-dir <dir>', 'where metrics and logs wait while the control plane is unreachable')
  .option('--dev-mode', 'let custom_host point at loopback (local testing only)')
  .option('--workers <n|auto>', 'gateway processes behind the port (auto: one per core); more than 1 needs --cache redis (default TOLLGATE_GATEWAY_WORKERS, else 1)')
  .action(async (opts: { host: string; port: number; controlPlaneUrl: string; cache: string; redisUrl?: string; syncInterval: number; keyringFile?: string; logDir?: string; snapshotFile?: string; spoolDir?: string; devMode?: boolean; workers?: string }) => {
    const { runGateway } = await import('../runtime/standalone.js');
    const running = await runGateway(opts).catch(fail);
    // Workers each run this command too; only the supervising process announces the port.
    if ((await import('node:cluster')).default.isWorker) return onShutdown(running.close);
    process.stdout.write(`gateway listening on ${running.url}/v1${running.workers.length > 1 ? ` (${running.workers.length} workers)` : ''}\n`);
    onShutdown(running.close);
  });

const keyring = program
  .command('keyring')
  .description('local key file: stage, activate and retire wrapping keys (key rotation, docs/control-plane.md); in AWS, KMS rotates');
const keyringFileOption = ['--keyring-file <file>', 'the local key file', './.tollgate/keyring.json'] as const;

keyring
  .command('list')
  .description('the keys in the file and which one seals new secrets (never prints key material)')
  .option(...keyringFileOption)
  .action(async (opts: { keyringFile: string }) => {
    const { readLocalKeyFile } = await import('../runtime/adapters/local-keyring.js');
    const stored = await readLocalKeyFile(opts.keyringFile).catch(fail);
    if (!stored) fail(new Error(`no key file at ${opts.keyringFile}`));
    for (const k of stored.keys) process.stdout.write(`${k.keyName}${k.keyName === stored.current ? ' (current)' : ''}${k.created_at ? ` ${k.created_at}` : ''}\n`);
  });

keyring
  .command('rotate')
  .description('add a new key; with --staged it is not current yet (give the file to every gateway first, then activate)')
  .option(...keyringFileOption)
  .option('--staged', 'keep the current key current')
  .action(async (opts: { keyringFile: string; staged?: boolean }) => {
    const { rotateLocalKey } = await import('../runtime/adapters/local-keyring.js');
    const name = await rotateLocalKey(opts.keyringFile, { activate: !opts.staged }).catch(fail);
    process.stdout.write(
      opts.staged
        ? `${name} staged: give this file to every gateway and restart them, then \`tollgate keyring activate ${name}\`\n`
        : `${name} is now current: restart the control plane, then POST /v1/platform/organisations/{id}/virtual-keys/rewrap for each org\n`,
    );
  });

keyring
  .command('activate <keyName>')
  .description('make a key in the file the one that seals new secrets')
  .option(...keyringFileOption)
  .action(async (keyName: string, opts: { keyringFile: string }) => {
    const { activateLocalKey } = await import('../runtime/adapters/local-keyring.js');
    await activateLocalKey(opts.keyringFile, keyName).catch(fail);
    process.stdout.write(`${keyName} is now current: restart the control plane, then POST /v1/platform/organisations/{id}/virtual-keys/rewrap for each org\n`);
  });

keyring
  .command('retire <keyName>')
  .description('drop an old key after every organisation was re-wrapped')
  .option(...keyringFileOption)
  .action(async (keyName: string, opts: { keyringFile: string }) => {
    const { retireLocalKey } = await import('../runtime/adapters/local-keyring.js');
    await retireLocalKey(opts.keyringFile, keyName).catch(fail);
    process.stdout.write(`${keyName} retired\n`);
  });

await program.parseAsync(process.argv);
