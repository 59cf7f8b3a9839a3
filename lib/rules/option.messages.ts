/**
 * The words of the rule vocabulary, in one place: what follows a field's path in a message
 * ("providers.next.timeouts.idleMs must be …"). Each says how to fix the value. Words only one
 * option uses are its table's `hint`, beside the option.
 */
export const OptionWords = {
  notAnObject:
    'must be an object. Pass InferenceModule.forRoot({ providers: { name: { baseUrl, apiKey } } }).',
  missing: (hint: string) => `is missing. ${hint}`,
  notAString: (hint: string) => `must be a string. ${hint}`,
  blank: (hint: string) => `is empty. ${hint}`,
  badUrl: "is not a valid URL. Use an absolute http(s) URL such as 'https://api.example.com/v1'.",
  notHttp: (protocol: string) =>
    `uses '${protocol}', which is not supported. Use an http:// or https:// URL.`,
  urlHasCredentials:
    'carries credentials in the URL. Remove them and set apiKey instead, so they are never logged.',
  urlHasQuery:
    "has a query string or fragment. Give the API root only, such as 'https://api.example.com/v1'.",
  notPositiveInteger: (value: unknown) =>
    `must be a positive integer number of milliseconds, got ${shown(value)}.`,
  notNonNegativeInteger: (value: unknown) => `must be an integer ≥ 0, got ${shown(value)}.`,
  notABudget: (value: unknown, offAllowed: boolean) =>
    `must be a positive number of milliseconds${offAllowed ? ' (or 0: off)' : ''}, got ${shown(value)}.`,
  notInRange: (value: unknown, min: number, max: number) =>
    `must be a number from ${min} to ${max}, got ${shown(value)}.`,
  tooLarge: (value: unknown, max: number) =>
    `is ${shown(value)}, above the limit of ${max}. Lower it.`,
  notABoolean: (value: unknown) => `must be true or false, got ${shown(value)}.`,
  notAShare: (value: unknown) =>
    `must be a number between 0 and 1 (0.02 is 2%), got ${shown(value)}.`,
  notOneOf: (value: unknown, choices: readonly unknown[]) =>
    `is ${shown(value)}. Use one of: ${choices.join(', ')}.`,
  notAFunction: 'must be a function.',
  notStrings: 'must be a list of strings.',
  badHeader:
    'must be a valid HTTP header: a token name and a string value without line breaks or control characters.',
  reservedHeader: 'cannot be set here: the client sets it. Use apiKey for credentials.',
  unknownKey: (allowed: readonly string[]) =>
    `is not a known option. Known options here: ${allowed.join(', ')}.`,
} as const;

/** A value as a message quotes it. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
