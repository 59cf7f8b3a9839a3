const REDACTED = '[redacted]';

/** Removes every occurrence of each secret from a text, so provider messages can be quoted safely. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length > 0) result = result.split(secret).join(REDACTED);
  }
  return result;
}
