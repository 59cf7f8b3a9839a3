// The processes the gateway benchmark and profile start: the simulated upstream, the sample
// gateway (built, as it ships) and the bare Nest proxy, each in its own Node process; and the
// chat completion request they send.
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

/**
 * Starts `node ...args` in the repository with `env` added, and resolves once its standard output
 * matches `pattern`, with the first group (`printed`) and the child. It rejects if the process
 * exits first.
 */
export async function startProcess(args, env = {}, pattern = /(http:\/\/\S+)/) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const printed = await new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${output}`));
    child.once('exit', onExit);
    child.stdout.on('data', (data) => {
      output += data;
      const match = pattern.exec(output);
      if (match) {
        child.off('exit', onExit);
        resolve(match[1]);
      }
    });
  });
  child.stdout.resume();
  return { printed, child, stop: () => child.kill('SIGKILL') };
}

/** The simulated OpenAI-compatible upstream, answering `chunks` chunks. Resolves with its URL. */
export async function startUpstream(chunks) {
  const { printed, child, stop } = await startProcess([
    'bench/simulated-server.mjs',
    String(chunks),
  ]);
  return { url: printed, child, stop };
}

/**
 * The built sample gateway of `checkout` (this one by default) on `adapter`, against `upstreamUrl`,
 * in production mode with metrics and rollout on, no readiness delay. `nodeArgs` go before the
 * script (`--cpu-prof`).
 */
export async function startSample({ adapter, upstreamUrl, checkout = root, nodeArgs = [] }) {
  const { printed, child, stop } = await startProcess(
    [...nodeArgs, `${checkout}/sample/dist/main.js`],
    {
      NODE_ENV: 'production',
      HTTP_ADAPTER: adapter,
      PORT: '0',
      READINESS_DELAY_MS: '0',
      DRAIN_TIMEOUT_MS: '1000',
      INFERENCE_BASE_URL: upstreamUrl,
      INFERENCE_API_KEY: 'sk-bench',
      CANARY_BASE_URL: upstreamUrl,
      CANARY_API_KEY: 'sk-bench',
    },
    /listening on (http:\/\/\S+)\/v1\/chat\/completions/,
  );
  return { url: printed, child, stop };
}

/** A bare Nest app on `adapter` that proxies `upstreamUrl` with raw undici (bench/bare-proxy.mjs). */
export async function startBareProxy({ adapter, upstreamUrl, nodeArgs = [] }) {
  const { printed, child, stop } = await startProcess([...nodeArgs, 'bench/bare-proxy.mjs'], {
    HTTP_ADAPTER: adapter,
    UPSTREAM_URL: upstreamUrl,
  });
  return { url: printed, child, stop };
}

/** The chat completion every gateway run sends; streamed for `kind` `stream`. */
export function chatBody(kind) {
  return {
    model: 'gpt-4.1',
    messages: [{ role: 'user', content: 'Recommend three books about resilience.' }],
    ...(kind === 'stream' ? { stream: true } : {}),
  };
}
