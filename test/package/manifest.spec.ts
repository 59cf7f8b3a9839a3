import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Bare package names a file imports (statically or dynamically), types included. */
function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g),
  ].map((m) => m[1]!);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:'))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

describe('package.json', () => {
  it('declares every package that lib/ imports, as a dependency or a peer', () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const used = new Set(sourceFiles(join(root, 'lib')).flatMap(importedPackages));
    const undeclared = [...used].filter(
      (name) => !declared.has(name) && !builtinModules.includes(name),
    );
    expect(undeclared).toEqual([]);
  });

  it('is an ES module package for the supported Node versions', () => {
    expect(manifest.type).toBe('module');
    expect(manifest.engines.node).toBe('^20.19.0 || ^22.12.0 || >=24.0.0');
    expect(manifest.dependencies.undici).toMatch(/^\^7\./);
    for (const peer of ['@nestjs/common', '@nestjs/core'])
      expect(manifest.peerDependencies[peer]).toBe('^11.0.0 || ^12.0.0');
    expect(Object.keys(manifest.peerDependencies)).toEqual(
      expect.arrayContaining(['reflect-metadata', 'rxjs']),
    );
  });

  it('maps types, import, require and default for every entry point', () => {
    expect(Object.keys(manifest.exports).toSorted()).toEqual([
      '.',
      './canary',
      './package.json',
      './prometheus',
      './redis',
      './terminus',
      './testing',
    ]);
    expect(manifest.exports['./package.json']).toBe('./package.json');
    const entryPoints = Object.entries<Record<string, string>>(manifest.exports).filter(
      ([subpath]) => subpath !== './package.json',
    );
    for (const [, conditions] of entryPoints) {
      // `types` must come first for TypeScript to pick it.
      expect(Object.keys(conditions)).toEqual(['types', 'import', 'require', 'default']);
      expect(conditions.types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      for (const condition of ['import', 'require', 'default']) {
        expect(conditions[condition]).toBe(conditions.types!.replace(/\.d\.ts$/, '.js'));
      }
    }
  });

  it('maps every subpath in typesVersions too, for `module: commonjs` (node10) resolution', () => {
    const subpaths = Object.entries<Record<string, string>>(manifest.exports).filter(
      ([subpath]) => subpath !== '.' && subpath !== './package.json',
    );
    expect(Object.keys(manifest.typesVersions)).toEqual(['*']);
    expect(manifest.typesVersions['*']).toEqual(
      Object.fromEntries(subpaths.map(([subpath, c]) => [subpath.slice(2), [c.types]])),
    );
  });

  it('keeps @nestjs/terminus an optional peer, used by the terminus subpath only', () => {
    expect(manifest.peerDependencies['@nestjs/terminus']).toBe('^11.0.0 || ^12.0.0');
    expect(manifest.peerDependenciesMeta['@nestjs/terminus']).toEqual({ optional: true });
    const importers = sourceFiles(join(root, 'lib'))
      .filter((file) => importedPackages(file).includes('@nestjs/terminus'))
      .map((file) => file.slice(root.length));
    expect(importers).toEqual(['lib/health/inference-health.indicator.ts']);
  });

  it('keeps ioredis an optional peer, used by the redis subpath only', () => {
    expect(manifest.peerDependenciesMeta.ioredis).toEqual({ optional: true });
    const importers = sourceFiles(join(root, 'lib'))
      .filter((file) => importedPackages(file).includes('ioredis'))
      .map((file) => file.slice(root.length));
    expect(importers).toEqual(['lib/redis/redis-rollout.store.ts']);
  });

  it('keeps the OpenTelemetry SDK optional, used by the prometheus subpath only', () => {
    expect(manifest.dependencies['@opentelemetry/api']).toMatch(/^\^1\./);
    for (const peer of ['@opentelemetry/sdk-metrics', '@opentelemetry/exporter-prometheus']) {
      expect(manifest.peerDependenciesMeta[peer]).toEqual({ optional: true });
    }
    const importers = sourceFiles(join(root, 'lib'))
      .filter((file) =>
        importedPackages(file).some(
          (name) => name.startsWith('@opentelemetry/') && name !== '@opentelemetry/api',
        ),
      )
      .map((file) => file.slice(root.length));
    expect(importers).toEqual(['lib/prometheus/inference-prometheus.ts']);
  });

  it('publishes only dist/ and the README', () => {
    expect(manifest.files).toEqual(['dist', 'README.md']);
  });
});
