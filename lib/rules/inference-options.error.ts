/** Bad module options, raised at startup. `problems` lists each field at fault. */
export class InferenceOptionsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid nestjs-inference options:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
    this.name = 'InferenceOptionsError';
  }
}
