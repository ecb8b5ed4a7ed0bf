/**
 * The longest line or record the import reads, in characters. A record is under 200;
 * a line of another measurement in an InfluxDB export, under 64 KiB. Past this the
 * text is not history (a file of another kind, a quote or bracket never closed), and
 * holding it whole would grow until V8's string limit (512 MiB) crashed the process.
 */
export const LONGEST_RECORD = 1024 * 1024;

/** In place of a line longer than LONGEST_RECORD: its text was dropped as it came. */
export const OVERLONG: unique symbol = Symbol('a line longer than LONGEST_RECORD');

/**
 * The lines of a text, as node:readline gives them (ended by `\n`, `\r\n` or a lone
 * `\r`, as old Mac Excel writes CSV; no empty line after a final break), except that
 * a line longer than `longest` is OVERLONG, and never held longer than that.
 */
export async function* textLines(chunks: AsyncIterable<string>, longest = LONGEST_RECORD): AsyncGenerator<string | typeof OVERLONG> {
  let partial = '';
  let overlong = false;
  /** Whether the last chunk ended in `\r`: a `\n` starting this one belongs to that break. */
  let afterReturn = false;
  const take = (piece: string): void => {
    if (overlong) return;
    if (partial.length + piece.length > longest) {
      overlong = true;
      partial = '';
    } else {
      partial += piece;
    }
  };
  const finish = (): string | typeof OVERLONG => {
    const line = overlong ? OVERLONG : partial;
    partial = '';
    overlong = false;
    return line;
  };
  const breaks = /\r\n?|\n/g;
  for await (const chunk of chunks) {
    if (chunk === '') continue;
    let start = afterReturn && chunk.startsWith('\n') ? 1 : 0;
    afterReturn = chunk.endsWith('\r');
    breaks.lastIndex = start;
    for (let found = breaks.exec(chunk); found !== null; found = breaks.exec(chunk)) {
      take(chunk.slice(start, found.index));
      start = breaks.lastIndex;
      yield finish();
    }
    take(chunk.slice(start));
  }
  if (partial !== '' || overlong) yield finish();
}
