// What the page knows: its buffers (the server's, one per room, one per private conversation), each with
// its messages in time order (deduplicated by msgid), members, topic and unread counts. No DOM, no network.

import { casefolder } from './irc.js';

/** The most messages a buffer keeps; older ones are dropped (and can be fetched again from history). */
export const MAX_MESSAGES = 2000;

export const SERVER = '*server*';

let serial = 0;

export class Buffer {
  constructor(name, kind) {
    this.name = name; // as the server spells it
    this.kind = kind; // 'server' | 'channel' | 'query'
    this.messages = [];
    this.ids = new Set();
    this.members = new Map(); // folded nick -> {nick, prefixes, away}
    this.topic = '';
    this.unread = 0;
    this.mentions = 0;
    this.joined = false;
    this.historyDone = false; // the oldest message the server has is here
    this.loading = false; // a CHATHISTORY request for this buffer is in flight
  }

  /** Insert ``msg`` in time order: its index, or -1 if a message with its msgid is here already. Among
   * messages of the same millisecond, an ``older`` one (from history before what is here) goes first. */
  add(msg, older = false) {
    if (msg.id) {
      if (this.ids.has(msg.id)) return -1;
      this.ids.add(msg.id);
    }
    msg.serial = ++serial;
    const list = this.messages;
    let i = list.length;
    while (i > 0 && (list[i - 1].time > msg.time || (older && list[i - 1].time >= msg.time))) i--;
    list.splice(i, 0, msg);
    if (list.length > MAX_MESSAGES) {
      for (const dropped of list.splice(0, list.length - MAX_MESSAGES)) {
        if (dropped.id) this.ids.delete(dropped.id);
      }
      this.historyDone = false;
      return Math.max(0, i - (list.length - MAX_MESSAGES));
    }
    return i;
  }

  /** The oldest message the server could know (one with a msgid), or null. */
  oldest() {
    return this.messages.find((m) => m.id) || null;
  }

  /** The newest message the server could know, or null: where a catch-up after a reconnection starts. */
  newest() {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].id) return this.messages[i];
    return null;
  }

  clear() {
    this.messages = [];
    this.ids.clear();
    this.historyDone = false;
  }
}

export class State {
  constructor() {
    this.buffers = new Map(); // folded name -> Buffer
    this.nick = '';
    this.account = '';
    this.fold = casefolder('ascii');
    this.prefix = { modes: { o: '@', v: '+' }, order: '@+' };
    this.chantypes = '#';
    this.network = '';
    this.historyMax = 0; // ISUPPORT CHATHISTORY (0: none advertised)
    this.caps = new Set();
    this.active = SERVER;
    this.ensure(SERVER, 'server');
  }

  key(name) {
    return this.fold(name);
  }

  get(name) {
    return this.buffers.get(this.key(name)) || null;
  }

  ensure(name, kind) {
    const key = this.key(name);
    let buffer = this.buffers.get(key);
    if (!buffer) {
      buffer = new Buffer(name, kind || (this.isChannel(name) ? 'channel' : 'query'));
      this.buffers.set(key, buffer);
    } else if (buffer.name !== name && buffer.kind === 'query') {
      buffer.name = name; // the other side changed the case of their nickname
    }
    return buffer;
  }

  remove(name) {
    this.buffers.delete(this.key(name));
    if (this.key(this.active) === this.key(name)) this.active = SERVER;
  }

  rename(old, name) {
    const buffer = this.get(old);
    if (!buffer || this.get(name)) return;
    this.buffers.delete(this.key(old));
    buffer.name = name;
    this.buffers.set(this.key(name), buffer);
    if (this.key(this.active) === this.key(old)) this.active = name;
  }

  isChannel(name) {
    return name.length > 0 && this.chantypes.includes(name[0]);
  }

  isMe(nick) {
    return !!nick && this.fold(nick) === this.fold(this.nick);
  }

  activeBuffer() {
    return this.get(this.active) || this.get(SERVER);
  }

  /** The buffers in the order of the room list: the server, the rooms, then the conversations. */
  ordered() {
    const rank = { server: 0, channel: 1, query: 2 };
    return [...this.buffers.values()].sort(
      (a, b) => rank[a.kind] - rank[b.kind] || this.fold(a.name).localeCompare(this.fold(b.name)),
    );
  }

  // -- members -----------------------------------------------------------------------------------------

  /** "@+alice!a@host" (multi-prefix, userhost-in-names) -> {nick, prefixes}. */
  splitPrefixes(entry) {
    let i = 0;
    while (i < entry.length && this.prefix.order.includes(entry[i])) i++;
    const nick = entry.slice(i).split('!')[0];
    return { nick, prefixes: entry.slice(0, i) };
  }

  addMember(buffer, nick, prefixes = '') {
    const key = this.key(nick);
    const known = buffer.members.get(key);
    buffer.members.set(key, { nick, prefixes: this.sortPrefixes(prefixes), away: known ? known.away : false });
  }

  removeMember(buffer, nick) {
    return buffer.members.delete(this.key(nick));
  }

  setMode(buffer, nick, mode, on) {
    const symbol = this.prefix.modes[mode];
    const member = buffer.members.get(this.key(nick));
    if (!symbol || !member) return;
    const without = member.prefixes.replace(symbol, '');
    member.prefixes = this.sortPrefixes(on ? without + symbol : without);
  }

  sortPrefixes(prefixes) {
    const order = this.prefix.order;
    return [...prefixes].sort((a, b) => order.indexOf(a) - order.indexOf(b)).join('');
  }

  /** A buffer's members, the highest status first, then by name. */
  sortedMembers(buffer) {
    const order = this.prefix.order;
    const rank = (m) => (m.prefixes ? order.indexOf(m.prefixes[0]) : order.length);
    return [...buffer.members.values()].sort(
      (a, b) => rank(a) - rank(b) || this.fold(a.nick).localeCompare(this.fold(b.nick)),
    );
  }

  /** Every buffer ``nick`` is seen in (the rooms it is a member of, a conversation with it). */
  buffersOf(nick) {
    const key = this.key(nick);
    return [...this.buffers.values()].filter(
      (b) => b.members.has(key) || (b.kind === 'query' && this.key(b.name) === key),
    );
  }

  renameMember(old, nick) {
    for (const buffer of this.buffers.values()) {
      const member = buffer.members.get(this.key(old));
      if (member) {
        buffer.members.delete(this.key(old));
        member.nick = nick;
        buffer.members.set(this.key(nick), member);
      }
    }
  }

  setAway(nick, away) {
    for (const buffer of this.buffers.values()) {
      const member = buffer.members.get(this.key(nick));
      if (member) member.away = away;
    }
  }
}
