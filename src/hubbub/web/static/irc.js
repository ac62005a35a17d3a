// IRC lines and text: parsing and writing lines (with IRCv3 message tags), CTCP ACTION, formatting codes,
// nickname case-folding and colours, mentions, and links. No DOM, no network: plain functions.

const TAG_UNESCAPES = { ':': ';', s: ' ', r: '\r', n: '\n', '\\': '\\' };
const TAG_ESCAPES = { ';': '\\:', ' ': '\\s', '\r': '\\r', '\n': '\\n', '\\': '\\\\' };

export function unescapeTag(value) {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    i++;
    if (i >= value.length) break; // a lone trailing backslash is dropped
    out += TAG_UNESCAPES[value[i]] ?? value[i];
  }
  return out;
}

export function escapeTag(value) {
  return String(value).replace(/[; \r\n\\]/g, (c) => TAG_ESCAPES[c]);
}

/** "nick!user@host" (or a server name) -> {raw, nick, user, host}. */
export function parseSource(raw) {
  const bang = raw.indexOf('!');
  const at = raw.indexOf('@', bang < 0 ? 0 : bang);
  let nick = raw;
  let user = '';
  let host = '';
  if (at >= 0) {
    host = raw.slice(at + 1);
    nick = raw.slice(0, at);
  }
  if (bang >= 0) {
    user = nick.slice(bang + 1);
    nick = nick.slice(0, bang);
  }
  return { raw, nick, user, host };
}

/** One line (without CR LF) -> {tags, source, command, params}, or null if it has no command. */
export function parseLine(line) {
  line = line.replace(/[\r\n]+$/, '');
  let pos = 0;
  const skipSpaces = () => {
    while (line[pos] === ' ') pos++;
  };
  const tags = {};
  let source = null;
  if (line[0] === '@') {
    const end = line.indexOf(' ');
    if (end < 0) return null;
    for (const part of line.slice(1, end).split(';')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      if (eq < 0) tags[part] = '';
      else tags[part.slice(0, eq)] = unescapeTag(part.slice(eq + 1));
    }
    pos = end;
    skipSpaces();
  }
  if (line[pos] === ':') {
    const end = line.indexOf(' ', pos);
    if (end < 0) return null;
    source = parseSource(line.slice(pos + 1, end));
    pos = end;
    skipSpaces();
  }
  let end = line.indexOf(' ', pos);
  if (end < 0) end = line.length;
  const command = line.slice(pos, end).toUpperCase();
  if (!command) return null;
  pos = end;
  const params = [];
  for (;;) {
    skipSpaces();
    if (pos >= line.length) break;
    if (line[pos] === ':') {
      params.push(line.slice(pos + 1));
      break;
    }
    end = line.indexOf(' ', pos);
    if (end < 0) end = line.length;
    params.push(line.slice(pos, end));
    pos = end;
  }
  return { tags, source, command, params };
}

/** A line to send: line breaks and NULs in parameters become spaces; the last one gets its colon if needed. */
export function formatLine(command, params = [], tags = null) {
  let out = '';
  const entries = tags ? Object.entries(tags) : [];
  if (entries.length) {
    out += '@' + entries.map(([k, v]) => (v === '' || v === true ? k : `${k}=${escapeTag(v)}`)).join(';') + ' ';
  }
  out += command;
  params.forEach((param, i) => {
    const p = String(param).replace(/[\r\n\0]/g, ' ');
    const last = i === params.length - 1;
    if (last && (p === '' || p.includes(' ') || p[0] === ':')) out += ' :' + p;
    else out += ' ' + p.replace(/ /g, '_');
  });
  return out;
}

/** The text of a CTCP message ("\x01VERB arg\x01") -> {verb, arg}; null for an ordinary message. */
export function parseCtcp(text) {
  if (text.length < 2 || text[0] !== '\x01') return null;
  const inner = text.slice(1).replace(/\x01$/, '');
  const space = inner.indexOf(' ');
  if (space < 0) return { verb: inner.toUpperCase(), arg: '' };
  return { verb: inner.slice(0, space).toUpperCase(), arg: inner.slice(space + 1) };
}

export function action(text) {
  return `\x01ACTION ${text}\x01`;
}

// Bold, italics, underline, strike-through, monospace, reverse, reset; colours (\x03 with up to two
// numbers) and hex colours (\x04): all removed, leaving the plain text.
const FORMATTING = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** The text without IRC formatting codes, nor any other control character than tab. */
export function stripFormatting(text) {
  return text.replace(FORMATTING, '').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');
}

/** A case-folding function for the server's CASEMAPPING (ascii, or rfc1459 and its strict variant). */
export function casefolder(casemapping = 'ascii') {
  if (casemapping === 'rfc1459' || casemapping === 'strict-rfc1459') {
    const extra = casemapping === 'rfc1459' ? /[[\]\\~]/g : /[[\]\\]/g;
    const map = { '[': '{', ']': '}', '\\': '|', '~': '^' };
    return (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(extra, (c) => map[c]);
  }
  return (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export const NICK_COLOURS = 12;

/** A stable colour number for a nickname (the same in every browser). */
export function nickColour(nick) {
  let hash = 5381;
  const folded = nick.toLowerCase();
  for (let i = 0; i < folded.length; i++) hash = ((hash * 33) ^ folded.charCodeAt(i)) >>> 0;
  return hash % NICK_COLOURS;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether ``text`` names ``nick`` as a word of its own (case-insensitively). */
export function mentions(text, nick) {
  if (!nick) return false;
  const word = '[A-Za-z0-9_\\-\\[\\]\\\\^{}|`]';
  return new RegExp(`(^|[^A-Za-z0-9_\\-\\[\\]\\\\^{}|\`])${escapeRegExp(nick)}(?!${word})`, 'i').test(text);
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'\x00-\x1f]+/gi;

/** ``text`` in pieces: [{text}, {text, url}, ...]; only http and https URLs become links. Punctuation that
 * ends a sentence is left out of a link, and so is a closing bracket that the link did not open. */
export function linkify(text) {
  const pieces = [];
  let last = 0;
  for (const found of text.matchAll(URL_PATTERN)) {
    let url = found[0];
    for (;;) {
      const tail = url[url.length - 1];
      if ('.,;:!?\'"'.includes(tail)) url = url.slice(0, -1);
      else if (tail === ')' && (url.match(/\(/g) || []).length < (url.match(/\)/g) || []).length) url = url.slice(0, -1);
      else break;
    }
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') continue;
    if (found.index > last) pieces.push({ text: text.slice(last, found.index) });
    pieces.push({ text: url, url: parsed.href });
    last = found.index + url.length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}

/** UTF-8 text -> base64 (SASL PLAIN's payload). */
export function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The server's ISUPPORT PREFIX, "(ov)@+" -> {modes: {o: '@', v: '+'}, order: '@+'}. */
export function parsePrefix(value) {
  const found = /^\(([^)]*)\)(.*)$/.exec(value || '');
  if (!found || found[1].length !== found[2].length) return { modes: { o: '@', v: '+' }, order: '@+' };
  const modes = {};
  for (let i = 0; i < found[1].length; i++) modes[found[1][i]] = found[2][i];
  return { modes, order: found[2] };
}

/** "2024-05-01T10:00:00.123Z" (server-time) -> a Date; now if absent or unreadable. */
export function serverTime(tag) {
  if (tag) {
    const when = new Date(tag);
    if (!Number.isNaN(when.getTime())) return when;
  }
  return new Date();
}

/** A Date -> server-time's format, for CHATHISTORY's timestamp= references. */
export function timestamp(date) {
  return date.toISOString();
}
