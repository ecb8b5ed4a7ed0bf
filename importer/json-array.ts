import { LONGEST_RECORD } from './lines.js';

/**
 * The elements of the JSON arrays in a text, one array after another (`[…]`, or
 * pages appended to one file: `[…][…]`), each as its own JSON text, for JSON.parse.
 * A streaming JSON parser (stream-json 3) was tried first: it reads input a block
 * at a time and throws at a syntax error before handing out the elements read
 * before it in that block, which the import must store, and names no position;
 * and on a year of points it took several times as long (by hand: 4 to 10 s,
 * against 1.3 to 2.2 s for this and JSON.parse). This only finds where each
 * element ends: brackets and braces outside strings, then a `,` or the closing
 * `]` outside them. Whether an element is JSON is JSON.parse's to say.
 */

const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const BYTE_ORDER_MARK = 0xfeff;

/** Blanks JSON allows between tokens (a character's code, or a byte of UTF-8). */
export function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** What the text is in, between two characters. */
type Place = 'between arrays' | 'before an element' | 'in an element';

/**
 * Yields each element's text (blanks around it trimmed). Throws, after the elements
 * before it, when the text is not arrays of elements: something else outside them,
 * an element missing between commas, brackets that do not match, an element longer
 * than `longest` (never held longer than that and a chunk), or an end inside an array.
 */
export async function* jsonArrayElements(chunks: AsyncIterable<string>, longest = LONGEST_RECORD): AsyncGenerator<string> {
  let place: Place = 'between arrays';
  let first = true;
  /** The element read so far from earlier chunks. */
  let carried = '';
  /** The brackets that close what the element has opened, innermost last. */
  let closers: number[] = [];
  let inString = false;
  let escaped = false;
  /** Whether the array just opened has had no element yet: `[]` is empty, `[,` and `,]` are not. */
  let opened = false;
  for await (const chunk of chunks) {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (place === 'in an element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (code === BACKSLASH) escaped = true;
          else if (code === QUOTE) inString = false;
        } else if (code === QUOTE) {
          inString = true;
        } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
          closers.push(code === OPEN_ARRAY ? CLOSE_ARRAY : CLOSE_OBJECT);
        } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
          const expected = closers.pop();
          if (expected === undefined && code === CLOSE_ARRAY) {
            yield (carried + chunk.slice(start, i)).trim();
            carried = '';
            place = 'between arrays';
          } else if (expected !== code) {
            throw new Error(`a ${JSON.stringify(chunk.charAt(i))} where ${expected === undefined ? 'nothing is open' : `${JSON.stringify(String.fromCharCode(expected))} should close`}`);
          }
        } else if (code === COMMA && closers.length === 0) {
          yield (carried + chunk.slice(start, i)).trim();
          carried = '';
          place = 'before an element';
          opened = false;
        }
      } else if (first && code === BYTE_ORDER_MARK) {
        // A UTF-8 byte order mark (as Windows editors write) is not part of the data.
      } else if (isBlank(code)) {
        // Between tokens.
      } else if (place === 'between arrays') {
        if (code !== OPEN_ARRAY) throw new Error(`${JSON.stringify(chunk.charAt(i))} outside the arrays, where only blanks and another array may come`);
        place = 'before an element';
        opened = true;
      } else if (code === CLOSE_ARRAY && opened) {
        place = 'between arrays';
      } else if (code === COMMA || code === CLOSE_ARRAY) {
        throw new Error(`an element missing before ${JSON.stringify(chunk.charAt(i))}`);
      } else {
        place = 'in an element';
        start = i;
        closers = [];
        inString = false;
        escaped = false;
        // This character opens the element: counted here, as the loop has passed it.
        if (code === QUOTE) inString = true;
        else if (code === OPEN_ARRAY || code === OPEN_OBJECT) closers.push(code === OPEN_ARRAY ? CLOSE_ARRAY : CLOSE_OBJECT);
      }
      first = false;
    }
    if (place === 'in an element') {
      carried += chunk.slice(start);
      if (carried.length > longest) throw new Error(`a record longer than ${longest / 1024 / 1024} MiB (a quote or a bracket never closed?)`);
    }
  }
  if (place !== 'between arrays') throw new Error('the input ends inside an array (no closing "]")');
}
