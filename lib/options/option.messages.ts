const ADD_PROVIDER =
  "Add at least one, for example providers: { main: { baseUrl: 'https://api.example.com/v1', apiKey: process.env.API_KEY } }.";

/**
 * Every message for a bad option, in one place. Each names the field path and says how to fix it.
 */
export const OptionMessages = {
  notAnObject: (path: string) =>
    `${path} must be an object. Pass InferenceModule.forRoot({ providers: { name: { baseUrl, apiKey } } }).`,
  noProviders: (path: string) => `${path} has no providers. ${ADD_PROVIDER}`,
  missingProviders: (path: string) => `${path} is missing. ${ADD_PROVIDER}`,
  badProviderName: (path: string) =>
    `${path} is not a usable provider name. Use letters, digits, '-' or '_' (it appears in logs and metrics).`,
  missing: (path: string, hint: string) => `${path} is missing. ${hint}`,
  notAString: (path: string, hint: string) => `${path} must be a string. ${hint}`,
  blank: (path: string, hint: string) => `${path} is empty. ${hint}`,
  badUrl: (path: string) =>
    `${path} is not a valid URL. Use an absolute http(s) URL such as 'https://api.example.com/v1'.`,
  notHttp: (path: string, protocol: string) =>
    `${path} uses '${protocol}', which is not supported. Use an http:// or https:// URL.`,
  urlHasCredentials: (path: string) =>
    `${path} carries credentials in the URL. Remove them and set apiKey instead, so they are never logged.`,
  urlHasQuery: (path: string) =>
    `${path} has a query string or fragment. Give the API root only, such as 'https://api.example.com/v1'.`,
  notPositiveInteger: (path: string, value: unknown) =>
    `${path} must be a positive integer number of milliseconds, got ${describe(value)}.`,
  notNonNegativeInteger: (path: string, value: unknown) =>
    `${path} must be an integer ≥ 0, got ${describe(value)}.`,
  notABudget: (path: string, value: unknown, offAllowed: boolean) =>
    `${path} must be a positive number of milliseconds${offAllowed ? ' (or 0: off)' : ''}, got ${describe(value)}.`,
  keepAliveTooShort: (path: string, value: unknown) =>
    `${path} must be an integer number of milliseconds ≥ 1000 (clients get the keep-alive timeout in whole seconds), got ${describe(value)}.`,
  tooLarge: (path: string, value: unknown, max: number) =>
    `${path} is ${describe(value)}, above the limit of ${max}. Lower it.`,
  exceedsTotal: (path: string, value: number, totalPath: string, total: number) =>
    `${path} (${value} ms) is longer than ${totalPath} (${total} ms), so it could never fire. Lower it or raise ${totalPath}.`,
  baseAboveMax: (path: string, base: number, maxPath: string, max: number) =>
    `${path} (${base} ms) is above ${maxPath} (${max} ms). Lower ${path} or raise ${maxPath}.`,
  badHeader: (path: string) =>
    `${path} must be a valid HTTP header: a token name and a string value without line breaks or control characters.`,
  notABoolean: (path: string, value: unknown) =>
    `${path} must be true or false, got ${describe(value)}.`,
  badHeaderList: (path: string) =>
    `${path} must be a list of header names, such as ['x-portkey-api-key'].`,
  reservedHeader: (path: string) =>
    `${path} cannot be set here: the client sets it. Use apiKey for credentials.`,
  unknownKey: (path: string, allowed: readonly string[]) =>
    `${path} is not a known option. Known options here: ${allowed.join(', ')}.`,
  unknownDefaultProvider: (path: string, value: string, names: readonly string[]) =>
    `${path} is '${value}', which is not a configured provider. Use one of: ${names.join(', ')}.`,
  ambiguousDefaultProvider: (path: string, names: readonly string[]) =>
    `${path} is missing and there are several providers (${names.join(', ')}). Set defaultProvider to one of them.`,
  notAFunction: (path: string) => `${path} must be a function.`,
  notOneOf: (path: string, value: unknown, choices: readonly string[]) =>
    `${path} is ${describe(value)}. Use one of: ${choices.join(', ')}.`,
  badExitCode: (path: string, value: unknown) =>
    `${path} must be an integer exit code from 1 to 125, got ${describe(value)}.`,
  unknownProvider: (path: string, value: unknown, names: readonly string[]) =>
    `${path} is ${describe(value)}, which is not a configured provider. Use one of: ${names.join(', ')}.`,
  sameProvider: (path: string) =>
    `${path} names the stable provider. The canary must be another provider.`,
  notAShare: (path: string, value: unknown) =>
    `${path} must be a number between 0 and 1 (0.02 is 2%), got ${describe(value)}.`,
  badRatio: (path: string, value: unknown) =>
    `${path} must be a number from 1 to 100 (1.5 allows the canary to be 1.5 times slower than stable), got ${describe(value)}.`,
  badConfidence: (path: string, value: unknown) =>
    `${path} must be a number between 0.5 and 0.9999 (0.95 is 95%), got ${describe(value)}.`,
  noPhases: (path: string) =>
    `${path} is empty. Give at least one phase, for example [{ weight: 5, durationMs: 600000 }].`,
  shadowNeedsDuration: (path: string) =>
    `${path} must be set on a shadow phase (weight 0): it says how long the canary is compared before users are served, for example durationMs: 900000.`,
  zeroWeightWithoutShadow: (path: string) =>
    `${path} is 0 but the phase has no shadow share: a phase with weight 0 must set shadow (a percentage above 0), or give the canary a weight above 0.`,
  badShadowShare: (path: string, value: unknown) =>
    `${path} must be a percentage from 0 to 100, in 0.01 steps (10 mirrors 10% of the stable side's keys), got ${describe(value)}.`,
  notAPrice: (path: string, value: unknown) =>
    `${path} must be an amount in US dollars ≥ 0 (0 stops mirroring), got ${describe(value)}.`,
  notNames: (path: string) => `${path} must be an array of feedback names (strings).`,
  badPhaseWeight: (path: string, value: unknown) =>
    `${path} must be a percentage above 0 (0 only with shadow) and at most 100, in 0.01 steps, got ${describe(value)}.`,
  phasesNotIncreasing: (path: string) =>
    `${path} must be larger than the weight of the phase before it: weights only grow.`,
  phaseNeedsDuration: (path: string) =>
    `${path} is missing. Every phase below 100% needs a duration, for example durationMs: 900000.`,
  badStickyKey: (path: string) =>
    `${path} must be a list of header names, such as ['x-user-id'], or a function of the headers.`,
  notAStore: (path: string) =>
    `${path} must be a rollout store (read, write, acquireLease, publishMetrics, readMetrics), such as new RedisRolloutStore(redis).`,
  badPrice: (path: string, value: unknown) =>
    `${path} must be a number of US dollars per million tokens, 0 or more, got ${describe(value)}.`,
  badModelName: (path: string) => `${path} must be a non-empty model name.`,
  unmappedForRollout: (path: string, provider: string) =>
    `${path} has no model name for provider '${provider}', which the canary rollout sends calls to. Add ${path}.${provider}.`,
  notAGroupList: (path: string) =>
    `${path} must be a list of groups of equivalent models, such as [{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }]: each group maps provider names to that provider's name for the same model.`,
  equivalentAlone: (path: string) =>
    `${path} names fewer than two providers. A group says which model each provider serves for the same thing; give at least two, such as { legacy: 'gpt-4.1', next: 'deepseek-v3.2' }.`,
  equivalentTwice: (path: string, model: string, earlier: string) =>
    `${path} is '${model}', which ${earlier} already names. A model has one group of equivalents: merge the two groups.`,
  equivalentIsLogical: (path: string, model: string) =>
    `${path} is '${model}', a logical model of models. Name concrete models here; models.${model} already maps it to each provider.`,
  badOverrideHeader: (path: string) =>
    `${path} must be a header name such as 'x-inference-canary', true (that header) or false (off).`,
  notAProvider: (path: string, method: string) =>
    `${path} must be an OpenTelemetry provider with a ${method}() method, such as the SDK's.`,
} as const;

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
