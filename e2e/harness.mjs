// Shared by the browser tests: finds the binary and the test data, runs a real `livegate serve`
// on a free port with a temporary data directory, mints a token, launches Debian's Chromium,
// and builds / reads ZIP files (with python3's zipfile, so the tests need nothing from npm but
// playwright-core).

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');

export const SECRET = 'e2e-secret-that-is-at-least-32-bytes-long!';
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Flags that work on this kind of machine (no GPU, no sandbox in containers, no network).
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Skips loudly when something the test needs is missing; under CI=true that is a failure. */
export function requireOrSkip(t, what, ok) {
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`${what} missing (CI=true)`);
  process.stderr.write(`\nSKIPPED: ${what} missing\n\n`);
  t.skip(`${what} missing`);
  return false;
}

export function testdataDir() {
  const dir = process.env.LIVEGATE_TESTDATA || resolve(ROOT, '../shared/testdata');
  return existsSync(dir) ? dir : null;
}

export function binary() {
  const candidates = [
    process.env.LIVEGATE_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'release/livegate'),
    '/var/cache/livegate/target/release/livegate',
    join(ROOT, 'target/release/livegate'),
  ].filter(Boolean);
  return candidates.find((p) => existsSync(p)) || null;
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function mintToken(bin) {
  return execFileSync(bin, ['token', '--sub', 'e2e', '--ttl', '1h', '--secret', SECRET], { encoding: 'utf8' }).trim();
}

/** A running `livegate serve`; `stop()` is SIGTERM, `kill()` is SIGKILL (no clean-up at all). */
export class Server {
  constructor(bin, dataDir, port) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.log = '';
  }

  static async start(bin, dataDir, port) {
    const s = new Server(bin, dataDir, port ?? (await freePort()));
    s.proc = spawn(bin, ['serve', '--bind', `127.0.0.1:${s.port}`, '--jwt-secret', SECRET], {
      env: { ...process.env, LIVEGATE_DATA_DIR: dataDir, RUST_LOG: process.env.RUST_LOG || 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk) => { s.log = (s.log + chunk.toString()).slice(-20000); };
    s.proc.stdout.on('data', keep);
    s.proc.stderr.on('data', keep);
    s.exited = new Promise((res) => s.proc.once('exit', (code, sig) => res({ code, sig })));
    await s.waitReady();
    return s;
  }

  async waitReady(timeoutMs = 180_000) {
    const t0 = Date.now();
    let exited = null;
    this.exited.then((e) => { exited = e; });
    while (Date.now() - t0 < timeoutMs) {
      if (exited) throw new Error(`livegate serve exited (${JSON.stringify(exited)}):\n${this.log}`);
      try {
        const r = await fetch(`${this.base}/readyz`);
        if (r.ok) return;
      } catch { /* not listening yet */ }
      await sleep(250);
    }
    throw new Error(`livegate serve not ready after ${timeoutMs} ms:\n${this.log}`);
  }

  kill() {
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Records every request `page` makes to another origin than `base` (blob: and data: are the
 *  page's own) and every page error or console error, for the "nothing from elsewhere, no
 *  errors" assertions every browser test makes. */
export function watch(page, base) {
  const offsite = [];
  const errors = [];
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:')) offsite.push(u);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { offsite, errors };
}

const PY_WRITE = `
import json, sys, zipfile
spec = json.load(sys.stdin)
with zipfile.ZipFile(spec["out"], "w", zipfile.ZIP_DEFLATED) as z:
    for name, src in spec["entries"]:
        if src.startswith("text:"):
            z.writestr(name, src[5:])
        else:
            z.write(src, name)
`;

const PY_READ = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    out = {}
    for n in z.namelist():
        out[n] = z.read(n).decode("utf-8", "replace")
    print(json.dumps(out))
`;

/** Writes a ZIP: entries are [nameInZip, sourcePath | "text:<content>"]. */
export function writeZip(out, entries) {
  execFileSync('python3', ['-c', PY_WRITE], { input: JSON.stringify({ out, entries }) });
  return out;
}

/** Every entry of a ZIP as text, by name. */
export function readZip(path) {
  return JSON.parse(execFileSync('python3', ['-c', PY_READ, path], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

/** RFC 4180 rows (the archive's CSV quotes fields with commas, quotes or newlines). */
export function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field.replace(/\r$/, '')); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

export function cleanup(dir) {
  try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
}

export { readFileSync };
