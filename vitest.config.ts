import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Nest's dependency injection reads constructor types from decorator metadata.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    include: ['test/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
