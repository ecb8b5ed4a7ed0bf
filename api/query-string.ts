/**
 * Splits a raw query string exactly as the original service (Starlette, on
 * Python's `parse_qsl(keep_blank_values=True)` and `unquote`) did, so that the
 * `input` echoed in a 422 is byte-for-byte the same:
 * - pairs split on `&`, empty pairs dropped, a name without `=` gets the value "";
 * - `+` is a space; `%XX` runs decode as UTF-8 with U+FFFD for invalid bytes; a `%`
 *   not followed by two hex digits stays as it is;
 * - a repeated name keeps its last value.
 */
export function parseQueryString(raw: string): Map<string, string> {
  const params = new Map<string, string>();
  if (raw === '') return params;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = equals < 0 ? pair : pair.slice(0, equals);
    const value = equals < 0 ? '' : pair.slice(equals + 1);
    params.set(unquote(name.replaceAll('+', ' ')), unquote(value.replaceAll('+', ' ')));
  }
  return params;
}

// ignoreBOM keeps a leading U+FEFF, as Python's utf-8 codec does.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const ASCII_RUN = /[\u0000-\u007f]+/g;
const HEX_PAIR = /^[0-9A-Fa-f]{2}/;

/** Python's `urllib.parse.unquote`: only ASCII runs are percent-decoded. */
export function unquote(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(ASCII_RUN, (run) => (run.includes('%') ? utf8.decode(percentDecode(run)) : run));
}

function percentDecode(run: string): Uint8Array {
  const bytes: number[] = [];
  const pieces = run.split('%');
  pushAscii(bytes, pieces[0]!);
  for (const piece of pieces.slice(1)) {
    if (HEX_PAIR.test(piece)) {
      bytes.push(parseInt(piece.slice(0, 2), 16));
      pushAscii(bytes, piece.slice(2));
    } else {
      bytes.push(0x25);
      pushAscii(bytes, piece);
    }
  }
  return Uint8Array.from(bytes);
}

function pushAscii(bytes: number[], text: string): void {
  for (let i = 0; i < text.length; i++) bytes.push(text.charCodeAt(i));
}
