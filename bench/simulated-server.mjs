// The upstream for the benchmark, in its own process so it does not compete with the clients
// for the event loop. Prints its base URL on the first line of stdout.
import { SimulatedProvider } from '../dist/testing/index.js';

const chunks = Number(process.argv[2] ?? 8);
const firstByteMs = Number(process.argv[3] ?? 0);
const provider = await SimulatedProvider.start({
  apiKey: 'sk-bench',
  chunks,
  latency: { firstByteMs },
  // Keep no per-request history: the benchmark sends hundreds of thousands of requests.
  keepRequests: 0,
});
process.stdout.write(`${provider.baseUrl}\n`);
process.on('SIGTERM', () => provider.close().then(() => process.exit(0)));
