/** What a failed child process (Playwright, the reference stack) said, reduced to the one line that explains it. */

/** The line that says what went wrong: the last `Error: …` line (the config's no-Chromium error, say), else the last line; never a stack frame. */
export function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('at '));
  return [...lines].reverse().find((line) => /^(\w*Error|Error)\b/.test(line)) ?? lines.at(-1) ?? '';
}

/** The end of a stream of output, at most `limit` characters: enough for an error and its stack. */
export class OutputTail {
  private text = '';
  constructor(private readonly limit = 16_384) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}
