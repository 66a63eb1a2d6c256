// Test helper: start a NATS server with JetStream on a random port, connect the
// official nats.js client, stop the server and clean up.
//
// The binary comes from env NATS_SERVER_BIN (default /usr/sbin/nats-server, the
// Debian Go server used as the oracle). The port is read from the ports file that
// the server writes into --ports_file_dir ({"nats":["nats://127.0.0.1:PORT"],...}).
// Nothing sleeps for a fixed time: every wait polls a condition with a deadline.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

export const SERVER_BIN = process.env.NATS_SERVER_BIN || '/usr/sbin/nats-server';

const START_DEADLINE_MS = 20000;
const STOP_DEADLINE_MS = 10000;

// Poll `cond` (sync or async) every `intervalMs` until it returns a truthy value,
// which is returned. Throws with `what` in the message once `timeoutMs` elapses.
export async function waitFor(cond, { timeoutMs = 5000, intervalMs = 20, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) {
      const extra = lastErr ? ` (last error: ${lastErr.message})` : '';
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${extra}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function readPort(portsDir) {
  for (const name of readdirSync(portsDir)) {
    if (!name.endsWith('.ports')) continue;
    let doc;
    try {
      doc = JSON.parse(readFileSync(join(portsDir, name), 'utf8'));
    } catch {
      return null; // partially written; poll again
    }
    const url = doc && Array.isArray(doc.nats) ? doc.nats[0] : null;
    if (!url) return null;
    const m = /:(\d+)\/?$/.exec(url);
    if (m) return { url, port: Number(m[1]) };
  }
  return null;
}

// Servers still running when the test process exits (a hung or timed-out test)
// are killed and their directories removed, so nothing is left behind.
const live = new Set();
process.on('exit', () => {
  for (const srv of live) {
    try {
      if (srv.proc) srv.proc.kill('SIGKILL');
    } catch { /* already gone */ }
    try {
      rmSync(srv.root, { recursive: true, force: true });
    } catch { /* best effort */ }
  }
});

// The test runner stops a timed-out test file with a signal: clean up first.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(sig, () => process.exit(128 + (sig === 'SIGTERM' ? 15 : sig === 'SIGINT' ? 2 : 1)));
}

export class NatsServer {
  constructor({ bin = SERVER_BIN, args = [] } = {}) {
    this.bin = bin;
    this.extraArgs = args;
    this.root = mkdtempSync(join(tmpdir(), 'nats-jsc-'));
    this.storeDir = join(this.root, 'sd');
    this.portsDir = join(this.root, 'ports');
    this.logPath = join(this.root, 'server.log');
    this.proc = null;
    this.exited = null;
    this.port = 0;
    this.url = '';
  }

  async start() {
    // The ports dir must exist; the storage dir is created by the server.
    mkdirSync(this.portsDir, { recursive: true });
    const logFd = openSync(this.logPath, 'a');
    const args = ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', this.storeDir,
      '--ports_file_dir', this.portsDir, ...this.extraArgs];
    this.proc = spawn(this.bin, args, { stdio: ['ignore', logFd, logFd] });
    live.add(this);
    closeSync(logFd);
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve({ code, signal }));
      this.proc.once('error', (err) => resolve({ code: -1, signal: null, err }));
    });
    let exitInfo = null;
    this.exited.then((e) => { exitInfo = e; });
    try {
      const found = await waitFor(() => {
        if (exitInfo) {
          throw new Error(`server exited early: ${JSON.stringify(exitInfo)}`);
        }
        return readPort(this.portsDir);
      }, { timeoutMs: START_DEADLINE_MS, what: `ports file from ${this.bin}` });
      this.port = found.port;
      this.url = `127.0.0.1:${found.port}`;
    } catch (err) {
      const log = this.log();
      await this.stop();
      throw new Error(`${err.message}\n--- server log ---\n${log}`);
    }
    return this;
  }

  log() {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  // Stop the process but keep the storage dir, then start again on a new port.
  async restart() {
    await this.kill();
    for (const name of readdirSync(this.portsDir)) {
      rmSync(join(this.portsDir, name), { force: true });
    }
    return this.start();
  }

  // SIGTERM, then SIGKILL if the process has not exited by the deadline.
  async kill() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      let timer;
      const killed = await Promise.race([
        this.exited.then(() => true),
        new Promise((r) => { timer = setTimeout(() => r(false), STOP_DEADLINE_MS); }),
      ]);
      clearTimeout(timer);
      if (!killed) {
        this.proc.kill('SIGKILL');
        await this.exited;
      }
    }
    this.proc = null;
  }

  async stop() {
    await this.kill();
    live.delete(this);
    rmSync(this.root, { recursive: true, force: true });
  }
}

export async function startServer(opts) {
  return new NatsServer(opts).start();
}

// Start a server, connect a client and build the JetStream handles.
// Returns { server, nc, js, jsm, version, is29, close }.
export async function setup(opts = {}) {
  const server = await startServer(opts);
  let nc;
  try {
    nc = await connect({ servers: server.url, reconnect: false, timeout: 5000 });
  } catch (err) {
    const log = server.log();
    await server.stop();
    throw new Error(`connect failed: ${err.message}\n--- server log ---\n${log}`);
  }
  const ctx = {
    server,
    nc,
    js: null,
    jsm: null,
    version: '',
    is29: false,
    // Stop the server (keeping its store), start it again and reconnect.
    async restart() {
      if (!ctx.nc.isClosed()) await ctx.nc.close();
      await server.restart();
      ctx.nc = await connect({ servers: server.url, reconnect: false, timeout: 5000 });
      await ctx._handles();
    },
    async _handles() {
      ctx.jsm = await jetstreamManager(ctx.nc, { timeout: 5000 });
      ctx.js = jetstream(ctx.nc, { timeout: 5000 });
      ctx.version = ctx.nc.info ? ctx.nc.info.version : '';
      ctx.is29 = ctx.version.startsWith('2.9');
    },
    async close() {
      try {
        if (!ctx.nc.isClosed()) await ctx.nc.close();
      } finally {
        await server.stop();
      }
    },
  };
  try {
    await ctx._handles();
  } catch (err) {
    await ctx.close();
    throw err;
  }
  return ctx;
}

// Collect up to `n` items from an async iterator, failing after `timeoutMs`.
export async function take(iter, n, timeoutMs = 5000) {
  const out = [];
  if (n === 0) return out;
  let timer;
  const timeout = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${timeoutMs}ms: got ${out.length}/${n} items`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        for await (const m of iter) {
          out.push(m);
          if (out.length >= n) break;
        }
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

// Resolve with `p`, or fail after `timeoutMs` (for loops over async iterators).
export async function within(p, timeoutMs, what = 'operation') {
  let timer;
  try {
    return await Promise.race([
      p,
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out after ${timeoutMs}ms: ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// Expect `p` to reject; returns the error. Fails if it resolves.
export async function rejects(p, what = 'operation') {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error(`expected ${what} to fail, but it succeeded`);
}

// Run `fn(ctx)` against a fresh server; always stops the server afterwards.
export async function withServer(fn, opts) {
  const ctx = await setup(opts);
  try {
    return await fn(ctx);
  } catch (err) {
    // NATS_JSC_SERVER_LOG=N appends the last N lines of the server log to a failure.
    const n = Number(process.env.NATS_JSC_SERVER_LOG || 0);
    if (n > 0 && err && typeof err.message === 'string') {
      const tail = ctx.server.log().split('\n').slice(-n - 1).join('\n');
      err.message += `\n--- server log (last ${n} lines) ---\n${tail}`;
    }
    throw err;
  } finally {
    await ctx.close();
  }
}

// Exact-seconds helper: JetStream durations are nanoseconds.
export const NS_PER_MS = 1000000;
export const nsFromMs = (ms) => ms * NS_PER_MS;
