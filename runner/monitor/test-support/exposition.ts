/** Reads the Prometheus text format and PromQL series selectors far enough to compare series shapes. */

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: string;
}

/** `name{a="x",b="y"}` (values with \" and \\ escapes) → name and labels. */
export function parseSeries(text: string): { name: string; labels: Record<string, string> } {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/.exec(text.trim());
  if (!match) throw new Error(`not a series: ${text}`);
  const labels: Record<string, string> = {};
  const body = match[2] ?? '';
  const pair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = pair.exec(body))) {
    labels[m[1]!] = m[2]!.replace(/\\(["\\])/g, '$1').replace(/\\n/g, '\n');
    consumed = pair.lastIndex;
  }
  if (body.slice(consumed).trim() !== '') throw new Error(`cannot read the labels of ${text}`);
  return { name: match[1]!, labels };
}

/** Every sample line of a text exposition. */
export function parseExposition(body: string): Series[] {
  return body
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const split = line.lastIndexOf(' ');
      return { ...parseSeries(line.slice(0, split)), value: line.slice(split + 1) };
    });
}

/** Name and label names, for comparing what series look like regardless of their values. */
export function shapeOf(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels).sort().join(',')}}`;
}
