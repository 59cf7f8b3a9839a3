import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Headless Chromium from the system (`apt-get install chromium`), or `CHROMIUM_PATH` when set;
 * undefined when absent.
 */
export const CHROMIUM: string | undefined = (
  process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser']
).find((path) => existsSync(path));

/** Flags that keep a headless run on this machine: no sandbox as root, no background fetches. */
function flags(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
  ];
}

async function withProfile<T>(use: (profile: string) => Promise<T>): Promise<T> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  try {
    return await use(profile);
  } finally {
    removeProfile(profile);
  }
}

/** The page's DOM after its scripts ran for `budgetMs` of virtual time. */
export function dumpDom(url: string, budgetMs = 5_000): Promise<string> {
  return withProfile(async (profile) => {
    const { stdout } = await run(
      CHROMIUM!,
      [...flags(profile), `--virtual-time-budget=${budgetMs}`, '--dump-dom', url],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  });
}

/** A page open in a headless Chromium, driven through the DevTools protocol. */
export interface OpenPage {
  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Saves what the page shows now (1280×900) as a PNG at `path`. */
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens `url` in a headless Chromium that stays up until `close()`. */
export async function openPage(url: string): Promise<OpenPage> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  const browser: ChildProcess = spawn(
    CHROMIUM!,
    [...flags(profile), '--window-size=1280,900', '--remote-debugging-port=0', url],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const close = async () => {
    socket?.close();
    if (browser.exitCode === null) {
      const exited = new Promise((resolve) => browser.once('exit', resolve));
      browser.kill('SIGTERM');
      await exited;
    }
    removeProfile(profile);
  };
  let socket: WebSocket | undefined;
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`Chromium did not start:\n${output}`)),
        30_000,
      );
      browser.stderr!.on('data', (data: Buffer) => {
        output += data.toString();
        const match = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    let target: { type: string; url: string; webSocketDebuggerUrl: string } | undefined;
    for (let tries = 0; !target && tries < 100; tries++) {
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
        type: string;
        url: string;
        webSocketDebuggerUrl: string;
      }[];
      target = targets.find((candidate) => candidate.type === 'page');
      if (!target) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!target) throw new Error('Chromium opened no page');
    const { WebSocket: Socket } = await import('undici');
    socket = new Socket(target.webSocketDebuggerUrl) as unknown as WebSocket;
    await new Promise((resolve, reject) => {
      socket!.addEventListener('open', resolve, { once: true });
      socket!.addEventListener('error', reject, { once: true });
    });
  } catch (error) {
    await close();
    throw error;
  }
  const pending = new Map<number, (message: CdpAnswer) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as CdpAnswer;
    if (message.id !== undefined) pending.get(message.id)?.(message);
  });
  let nextId = 1;
  const send = async (method: string, params: object): Promise<CdpResult> => {
    const id = nextId++;
    const answer = await new Promise<CdpAnswer>((resolve) => {
      pending.set(id, resolve);
      socket!.send(JSON.stringify({ id, method, params }));
    });
    pending.delete(id);
    if (answer.error || answer.result?.exceptionDetails) {
      throw new Error(
        `${method} failed: ${JSON.stringify(answer.error ?? answer.result?.exceptionDetails)}`,
      );
    }
    return answer.result ?? {};
  };
  const page: OpenPage = {
    async evaluate<T>(expression: string): Promise<T> {
      const result = await send('Runtime.evaluate', {
        expression,
        awaitPromise: true,
        returnByValue: true,
      });
      return result.result?.value as T;
    },
    async screenshot(path: string): Promise<void> {
      // The window's size includes its frame; the picture is of a 1280×900 viewport.
      await send('Emulation.setDeviceMetricsOverride', {
        width: 1280,
        height: 900,
        deviceScaleFactor: 1,
        mobile: false,
      });
      const result = await send('Page.captureScreenshot', { format: 'png' });
      writeFileSync(path, Buffer.from(result.data!, 'base64'));
    },
    close,
  };
  // The tab opens on about:blank first: wait until it shows `url`, loaded.
  const loaded = `location.href === ${JSON.stringify(url)} && document.readyState === 'complete'`;
  for (let tries = 0; !(await page.evaluate<boolean>(loaded)); tries++) {
    if (tries > 300) {
      await close();
      throw new Error(`Chromium did not load ${url}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return page;
}

interface CdpResult {
  result?: { value?: unknown };
  exceptionDetails?: unknown;
  data?: string;
}

interface CdpAnswer {
  id?: number;
  error?: unknown;
  result?: CdpResult;
}

/** Chromium's helpers may still write to the profile as it exits: retry, and never fail on it. */
function removeProfile(profile: string): void {
  try {
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch {
    // a leftover temp directory is no test failure
  }
}
