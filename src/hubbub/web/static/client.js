// The connection: IRC over a WebSocket to the page's own server (one line per message), registration
// with capability negotiation, SASL PLAIN or REGISTER, history requests, and reconnection with exponential
// backoff. What the server says is handled in handlers.js, which updates the State.

import { base64, formatLine, parseLine } from './irc.js';
import { HANDLERS } from './handlers.js';

/** Capabilities the page asks for, when the server offers them. */
export const WANTED_CAPS = [
  'message-tags', 'server-time', 'batch', 'echo-message', 'sasl', 'draft/chathistory', 'chathistory',
  'draft/account-registration', 'away-notify', 'account-notify', 'account-tag', 'extended-join',
  'multi-prefix', 'userhost-in-names', 'invite-notify', 'setname', 'chghost', 'cap-notify', 'standard-replies',
];

/** Messages asked for at once from history. */
export const HISTORY_PAGE = 50;
/** Reconnection delays: the first, and the most (each failure doubles it, with some jitter). */
export const BACKOFF_FIRST = 500;
export const BACKOFF_MAX = 30000;

export function socketUrl(location) {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/socket';
}

export class Client {
  /**
   * @param state the State to keep up to date
   * @param hooks what the page does when things happen: message(buffer, msg, index, live), history(buffer),
   *   changed(), status(text, offline), registered(), failed(text), closed(), rooms(list), list(rows),
   *   nick(nick), account(name)
   */
  constructor(state, hooks) {
    this.state = state;
    this.hooks = hooks;
    this.ws = null;
    this.settings = null; // {nick, mode: 'guest'|'login'|'register', password, realname}
    this.rooms = []; // the rooms to be in (joined again after each reconnection)
    this.stopped = true;
    this.registered = false;
    this.attempt = 0;
    this.timer = 0;
    this.batches = new Map();
    this.names = new Map(); // folded channel -> members gathered from 353 until 366
    this.listRows = null;
    this.capsOffered = new Map();
    this.capEnded = false;
    this.nickTries = 0;
  }

  // -- connecting ----------------------------------------------------------------------------------------

  start(settings, rooms) {
    this.settings = { ...settings };
    this.rooms = [...rooms];
    this.stopped = false;
    this.attempt = 0;
    this.open();
  }

  open() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.hooks.status('connecting', false);
    let ws;
    try {
      ws = new WebSocket(socketUrl(window.location), ['text.ircv3.net']);
    } catch (error) {
      this.hooks.failed(`Cannot connect: ${error.message}`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    const decoder = new TextDecoder();
    ws.addEventListener('open', () => this.register());
    ws.addEventListener('message', (event) => {
      if (ws !== this.ws) return;
      const text = typeof event.data === 'string' ? event.data : decoder.decode(event.data);
      for (const line of text.split(/\r?\n/)) {
        if (line) this.receive(line);
      }
    });
    ws.addEventListener('close', () => {
      if (ws === this.ws) this.closed();
    });
  }

  /** End the session on purpose: no reconnection. */
  stop(reason = 'Leaving') {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.send('QUIT', [reason]);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.reset();
    this.hooks.closed();
  }

  /** Try again now (a click on the status, the browser coming back online). */
  retry() {
    if (!this.stopped && (!this.ws || this.ws.readyState === WebSocket.CLOSED)) this.open();
  }

  reset() {
    this.registered = false;
    this.capEnded = false;
    this.capsOffered.clear();
    this.batches.clear();
    this.names.clear();
    this.state.caps.clear();
    this.state.account = '';
    for (const buffer of this.state.buffers.values()) {
      buffer.joined = false;
      buffer.loading = null;
      buffer.members.clear();
    }
  }

  closed() {
    this.ws = null;
    const wasRegistered = this.registered;
    this.reset();
    this.hooks.changed();
    if (this.stopped) return;
    if (wasRegistered) this.attempt = 0;
    const delay = Math.min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.hooks.status(`offline: reconnecting in ${Math.ceil(delay / 1000)} s`, true);
    this.timer = setTimeout(() => this.open(), delay);
  }

  register() {
    const nick = this.settings.nick;
    this.nickTries = 0;
    this.state.nick = nick;
    this.send('CAP', ['LS', '302']);
    this.send('NICK', [nick]);
    this.send('USER', [nick, '0', '*', this.settings.realname || nick]);
  }

  send(command, params = [], tags = null) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(formatLine(command, params, tags));
    return true;
  }

  /** A line typed by the user (/quote): sent as it is, on one line. */
  sendRaw(line) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(line.replace(/[\r\n\0]/g, ' '));
    return true;
  }

  get connected() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN && this.registered;
  }

  // -- what comes in -------------------------------------------------------------------------------------

  receive(line) {
    const msg = parseLine(line);
    if (!msg) return;
    const ref = msg.tags.batch;
    if (ref && msg.command !== 'BATCH' && this.batches.has(ref)) {
      this.batches.get(ref).lines.push(msg);
      return;
    }
    this.dispatch(msg, true);
  }

  dispatch(msg, live) {
    const handler = HANDLERS[msg.command];
    if (handler) handler(this, msg, live);
    else if (/^\d{3}$/.test(msg.command)) HANDLERS.numeric(this, msg, live);
  }

  // -- capabilities and logging in -----------------------------------------------------------------------

  capsListed(list, more) {
    for (const item of list.split(' ')) {
      if (!item) continue;
      const eq = item.indexOf('=');
      this.capsOffered.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
    }
    if (more) return;
    const mode = this.settings.mode;
    const wanted = WANTED_CAPS.filter(
      (cap) =>
        this.capsOffered.has(cap) &&
        (cap !== 'sasl' || mode === 'login') &&
        (cap !== 'draft/account-registration' || mode === 'register'),
    );
    if (wanted.length) this.send('CAP', ['REQ', wanted.join(' ')]);
    else this.endCaps();
  }

  capsAcknowledged(list) {
    for (const cap of list.split(' ')) {
      if (cap.startsWith('-')) this.state.caps.delete(cap.slice(1));
      else if (cap) this.state.caps.add(cap);
    }
    if (this.registered || this.capEnded) return;
    const { mode, password } = this.settings;
    if (mode === 'login') {
      if (!this.state.caps.has('sasl')) return this.fail('This server does not offer logging in (SASL).');
      this.send('AUTHENTICATE', ['PLAIN']);
    } else if (mode === 'register') {
      if (!this.state.caps.has('draft/account-registration')) {
        return this.fail('This server does not let you register an account here.');
      }
      this.send('REGISTER', ['*', '*', password]);
    } else {
      this.endCaps();
    }
  }

  endCaps() {
    if (this.capEnded) return;
    this.capEnded = true;
    this.send('CAP', ['END']);
  }

  /** SASL PLAIN's answer to "AUTHENTICATE +": the credentials in chunks of 400 bytes of base64. */
  authenticate(account) {
    const payload = base64(`${account}\0${account}\0${this.settings.password || ''}`);
    for (let i = 0; i < payload.length; i += 400) this.send('AUTHENTICATE', [payload.slice(i, i + 400)]);
    if (payload.length % 400 === 0) this.send('AUTHENTICATE', ['+']);
  }

  /** Logging in or registering failed: say why and stop (the user chooses what to do next). */
  fail(text) {
    this.stopped = true;
    this.send('QUIT', ['Login failed']);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.reset();
    this.hooks.failed(text);
  }

  /** A nickname taken during registration: try another (nick_, nick__, then nick and digits). */
  nextNick() {
    this.nickTries += 1;
    const base = this.settings.nick;
    const nick = this.nickTries < 3 ? base + '_'.repeat(this.nickTries) : base + Math.floor(Math.random() * 1000);
    this.state.nick = nick;
    this.send('NICK', [nick]);
  }

  // -- rooms and history ---------------------------------------------------------------------------------

  /** After registration: the rooms again, and what was missed in the conversations. */
  rejoin() {
    const names = [...new Set(this.rooms.map((r) => this.state.fold(r)))]
      .map((key) => this.rooms.find((r) => this.state.fold(r) === key));
    for (let i = 0; i < names.length; i += 10) this.send('JOIN', [names.slice(i, i + 10).join(',')]);
    for (const buffer of this.state.buffers.values()) {
      if (buffer.kind === 'query' && buffer.newest()) this.history(buffer, 'after');
    }
  }

  roomJoined(name) {
    if (!this.rooms.some((r) => this.state.fold(r) === this.state.fold(name))) this.rooms.push(name);
    this.hooks.rooms(this.rooms);
  }

  roomLeft(name) {
    this.rooms = this.rooms.filter((r) => this.state.fold(r) !== this.state.fold(name));
    this.hooks.rooms(this.rooms);
  }

  hasHistory() {
    const caps = this.state.caps;
    return caps.has('draft/chathistory') || caps.has('chathistory') || this.state.historyMax > 0;
  }

  /** Ask for history: 'latest' (on joining), 'before' (scrolling up), 'after' (catching up). */
  history(buffer, sub) {
    if (!this.connected || !this.hasHistory() || buffer.loading || buffer.kind === 'server') return false;
    const limit = Math.min(this.state.historyMax || HISTORY_PAGE, HISTORY_PAGE * (sub === 'after' ? 2 : 1));
    let ref = '*';
    if (sub === 'before') {
      if (buffer.historyDone) return false;
      const oldest = buffer.oldest() || buffer.messages[0];
      if (oldest) ref = oldest.id ? `msgid=${oldest.id}` : `timestamp=${oldest.time.toISOString()}`;
    } else if (sub === 'after') {
      const newest = buffer.newest();
      if (!newest) return this.history(buffer, 'latest');
      ref = `msgid=${newest.id}`;
    }
    const verb = sub === 'before' && ref === '*' ? 'LATEST' : sub.toUpperCase();
    buffer.loading = { sub, limit };
    this.send('CHATHISTORY', [verb, buffer.name, ref, String(limit)]);
    return true;
  }

  /** A chathistory batch ended: ``count`` lines for ``buffer``; another page if a catch-up was full. */
  historyDone(buffer, count) {
    const request = buffer.loading;
    buffer.loading = null;
    if (!request) return;
    if ((request.sub === 'before' || request.sub === 'latest') && count < request.limit) buffer.historyDone = true;
    if (request.sub === 'after' && count >= request.limit) this.history(buffer, 'after');
  }
}
