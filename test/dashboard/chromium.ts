// Headless Chromium (Debian's `chromium`) driven over the DevTools protocol with `ws`: open a page, run
// JavaScript in it, read the DOM after the page's own scripts ran. A per-test profile dir, removed on
// close; the browser is stopped by the PID this helper started.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

/** Where the browser is, or undefined. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
export const chromiumSkip = CHROMIUM ? false : 'needs Debian\'s chromium (apt-get install -y chromium)';

/** A page in a running browser. */
export interface Page {
  /** navigates and waits for the load event */
  goto(url: string): Promise<void>;
  /** evaluates `expr` in the page (promises awaited) and returns its JSON value */
  eval<T = unknown>(expr: string): Promise<T>;
  /** a PNG of the viewport (for looking at it by hand) */
  screenshot(): Promise<Buffer>;
  close(): Promise<void>;
}

/** Starts the browser and opens one page on about:blank. */
export async function openBrowser(): Promise<Page> {
  // profiles an earlier run could not remove (older than 15 min: a concurrent run's are left alone)
  for (const d of readdirSync(tmpdir())) {
    if (!d.startsWith('shoal-dash-chromium-')) continue;
    try {
      if (Date.now() - statSync(join(tmpdir(), d)).mtimeMs > 15 * 60_000) rmSync(join(tmpdir(), d), { recursive: true, force: true });
    } catch {
      /* gone */
    }
  }
  const profile = mkdtempSync(join(tmpdir(), 'shoal-dash-chromium-'));
  const child: ChildProcess = spawn(CHROMIUM!, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    '--disable-extensions', '--disable-background-networking', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const wsUrl = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`chromium did not start in 20 s: ${err.slice(-2000)}`)), 20_000);
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    child.once('exit', (code) => rej(new Error(`chromium exited ${code}: ${err.slice(-2000)}`)));
  });
  const port = new URL(wsUrl).port;
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
  const target = list.find((x) => x.type === 'page');
  if (!target) throw new Error('chromium: no page target');
  const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
  await new Promise((res, rej) => ws.once('open', res).once('error', rej));
  let id = 0;
  const pending = new Map<number, { res: (v: any) => void; rej: (e: Error) => void }>();
  const waiters: { method: string; res: () => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p?.rej(new Error(`${m.error.message} ${m.error.data ?? ''}`));
      else p?.res(m.result);
    } else {
      for (const w of waiters.splice(0)) if (w.method === m.method) w.res();
        else waiters.push(w);
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}): Promise<any> => new Promise((res, rej) => {
    const n = ++id;
    pending.set(n, { res, rej });
    ws.send(JSON.stringify({ id: n, method, params }));
  });
  await send('Page.enable');
  await send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 800, deviceScaleFactor: 1, mobile: false });
  await send('Runtime.enable');
  return {
    async goto(url) {
      const loaded = new Promise<void>((res) => waiters.push({ method: 'Page.loadEventFired', res }));
      await send('Page.navigate', { url });
      await Promise.race([loaded, new Promise((_, rej) => setTimeout(() => rej(new Error(`${url}: no load event in 15 s`)), 15_000))]);
    },
    async eval<T>(expression: string): Promise<T> {
      const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value as T;
    },
    async screenshot() {
      return Buffer.from((await send('Page.captureScreenshot', { format: 'png' })).data, 'base64');
    },
    async close() {
      ws.close();
      if (child.exitCode === null) {
        const exited = new Promise((res) => child.once('exit', res));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); // its helpers may still be writing
      } catch {
        /* left for the next run's clean-up */
      }
    },
  };
}

/** The graph as the page shows it: edges (source → target with their data attributes) and node ids. */
export const READ_GRAPH = `(() => ({
  updates: Number(document.body.dataset.updates || 0),
  nodes: [...document.querySelectorAll('#nodes .node')].map((n) => n.getAttribute('data-id')),
  edges: [...document.querySelectorAll('#edges .edge')].map((e) => ({
    source: e.getAttribute('data-source'), target: e.getAttribute('data-target'), rps: e.getAttribute('data-rps'),
    share: e.getAttribute('data-share'), success: e.getAttribute('data-success'), mtls: e.getAttribute('data-mtls'),
    text: [...e.querySelectorAll('text')].map((x) => x.textContent).join(' | '),
    lock: !!e.querySelector('.lock.mutual_tls'),
  })),
  splits: [...document.querySelectorAll('#splits .split .text')].map((s) => s.textContent),
  status: document.getElementById('status').textContent,
  marker: window.__marker || null,
}))()`;
