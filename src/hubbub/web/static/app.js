// The page itself: the connect form, what is remembered (localStorage: the nickname and rooms, and the
// password only when the user asks), the message box, notifications, and the wiring between the
// connection (client.js), the state (state.js) and the DOM (ui.js).

import { Client } from './client.js';
import { HELP, run } from './commands.js';
import { State, SERVER } from './state.js';
import { UI } from './ui.js';

const $ = (id) => document.getElementById(id);
const STORAGE = 'hubbub.settings';
const DEFAULT_ROOMS = ['#lobby'];

function load() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE) || '{}') || {};
  } catch {
    return {};
  }
}

function save(settings) {
  const kept = { ...settings };
  if (!kept.remember) delete kept.password;
  try {
    localStorage.setItem(STORAGE, JSON.stringify(kept));
  } catch {
    // storage refused (private mode, full): nothing is remembered
  }
}

class App {
  constructor() {
    this.settings = load();
    this.state = new State();
    this.client = new Client(this.state, this.hooks());
    this.ui = new UI(this.state, {
      select: (name) => this.select(name),
      older: () => this.history(),
      join: (name) => this.join(name),
    });
    this.follow_ = '';
    this.sent = [];
    this.sentAt = -1;
    this.wireConnectForm();
    this.wireChat();
    const { nick, mode, password, auto } = this.settings;
    if (nick && auto !== false && (mode === 'guest' || !mode || password)) this.start();
    else this.showConnect();
  }

  get buffer() {
    return this.state.activeBuffer();
  }

  // -- connecting ----------------------------------------------------------------------------------------

  wireConnectForm() {
    const form = $('connect-form');
    const { nick = '', mode = 'guest', password = '', remember = false } = this.settings;
    $('nick').value = nick;
    for (const radio of form.elements.mode) radio.checked = radio.value === mode;
    $('password').value = password;
    $('remember').checked = remember;
    const showPassword = () => {
      const chosen = form.elements.mode.value;
      $('password-box').hidden = chosen === 'guest';
      $('password').autocomplete = chosen === 'register' ? 'new-password' : 'current-password';
    };
    form.addEventListener('change', showPassword);
    showPassword();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const nickname = $('nick').value.trim();
      const chosen = form.elements.mode.value;
      const secret = $('password').value;
      if (!/^[^\s,*?!@#:][^\s,*?!@:]*$/.test(nickname)) return this.connectError('Choose a nickname (no spaces).');
      if (chosen !== 'guest' && !secret) return this.connectError('Type your password.');
      Object.assign(this.settings, {
        nick: nickname, account: '', mode: chosen, password: chosen === 'guest' ? '' : secret,
        remember: $('remember').checked, auto: true,
      });
      save(this.settings);
      this.start();
    });
    const port = location.port || (location.protocol === 'https:' ? '443' : '80');
    $('nc-hint').textContent = `nc ${location.hostname} ${port}`;
  }

  connectError(text) {
    $('connect-error').textContent = text;
  }

  showConnect(error = '') {
    $('chat').hidden = true;
    $('connect').hidden = false;
    this.connectError(error);
    $('nick').focus();
  }

  start() {
    $('connect').hidden = true;
    $('chat').hidden = false;
    this.connectError('');
    const rooms = this.settings.rooms && this.settings.rooms.length ? this.settings.rooms : DEFAULT_ROOMS;
    this.client.start(this.settings, rooms);
    this.ui.renderAll();
    $('input').focus();
  }

  quit(reason) {
    this.settings.auto = false;
    save(this.settings);
    this.client.stop(reason);
  }

  // -- what the connection tells -------------------------------------------------------------------------

  hooks() {
    return {
      message: (buffer, msg, index, live) => this.message(buffer, msg, index, live),
      history: (buffer) => {
        if (buffer === this.buffer) this.ui.renderLog(!this.ui.atBottom());
        this.ui.renderRooms();
      },
      changed: () => {
        this.ui.renderRooms();
        this.ui.renderHeading();
        this.ui.renderMembers();
      },
      status: (text, offline) => this.ui.setStatus(text, offline),
      registered: () => {
        this.showStatus();
        this.client.rejoin();
      },
      joined: (buffer) => {
        const follow = this.follow_ && this.state.key(this.follow_) === this.state.key(buffer.name);
        if (follow || this.buffer.kind === 'server') {
          this.follow_ = '';
          this.select(buffer.name);
        }
      },
      failed: (text) => this.showConnect(text),
      closed: () => this.showConnect(),
      rooms: (rooms) => {
        this.settings.rooms = [...rooms];
        save(this.settings);
      },
      list: (rows) => this.ui.showList(rows),
      nick: (nick) => {
        // A nickname chosen with /nick is the one to come back with.
        this.settings.nick = nick;
        if (this.client.settings) this.client.settings.nick = nick;
        save(this.settings);
        this.showStatus();
      },
      account: (name) => {
        // The account logged in to, for the next connections' SASL (the nickname may change meanwhile).
        if (name && this.settings.mode !== 'guest') {
          this.settings.account = name;
          if (this.client.settings) this.client.settings.account = name;
          save(this.settings);
        }
        this.showStatus();
      },
      registeredAccount: () => {
        // The account exists now: the next connections log in to it.
        this.settings.mode = 'login';
        save(this.settings);
        if (this.client.settings) this.client.settings.mode = 'login';
      },
    };
  }

  showStatus() {
    if (!this.client.registered) return;
    const account = this.state.account ? ` (account ${this.state.account})` : '';
    this.ui.setStatus(`connected as ${this.state.nick}${account}`);
  }

  message(buffer, msg, index, live) {
    if (!live) return; // a history batch: drawn once, at its end
    const active = buffer === this.buffer;
    if (active) this.ui.added(buffer, msg, index);
    if (msg.self || msg.kind === 'event' || msg.kind === 'info' || msg.kind === 'error') {
      if (!active && buffer.kind === 'query') this.ui.renderRooms();
      return;
    }
    const seen = active && !document.hidden;
    if (active) this.ui.announce(msg);
    if (!seen) {
      buffer.unread += 1;
      if (msg.mention) buffer.mentions += 1;
      this.ui.renderRooms();
    } else if (buffer.kind === 'query' && index === 0) {
      this.ui.renderRooms();
    }
    if (msg.mention && (!seen || !document.hasFocus())) this.notify(buffer, msg);
  }

  notify(buffer, msg) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    const title = buffer.kind === 'query' ? `${msg.nick} (private)` : `${msg.nick} in ${buffer.name}`;
    const note = new Notification(title, { body: msg.text.slice(0, 200), tag: buffer.name });
    note.addEventListener('click', () => {
      window.focus();
      this.select(buffer.name);
      note.close();
    });
  }

  // -- buffers -------------------------------------------------------------------------------------------

  select(name) {
    const buffer = this.state.get(name);
    if (!buffer) return;
    this.state.active = buffer.name;
    buffer.unread = 0;
    buffer.mentions = 0;
    this.ui.closePanels();
    this.ui.renderAll();
  }

  follow(name) {
    this.follow_ = name;
  }

  join(name) {
    const buffer = this.state.get(name);
    if (buffer && buffer.joined) return this.select(buffer.name);
    this.follow(name);
    this.client.send('JOIN', [name]);
  }

  open(name, focus) {
    const buffer = this.state.ensure(name, 'query');
    if (focus) this.select(buffer.name);
    else this.ui.renderRooms();
    if (!buffer.messages.length) this.client.history(buffer, 'latest');
  }

  close(buffer) {
    if (buffer.kind === 'server') return;
    if (buffer.kind === 'channel' && buffer.joined) this.client.send('PART', [buffer.name]);
    if (buffer.kind === 'channel') this.client.roomLeft(buffer.name);
    this.state.remove(buffer.name);
    this.select(SERVER);
  }

  history() {
    const buffer = this.buffer;
    if (buffer.historyDone) return;
    this.client.history(buffer, 'before');
  }

  redraw() {
    this.ui.renderLog();
  }

  // -- saying things -------------------------------------------------------------------------------------

  info(text, kind = 'info') {
    const buffer = this.buffer;
    const msg = { id: '', time: new Date(), nick: '', text, self: false, kind };
    const index = buffer.add(msg);
    this.ui.added(buffer, msg, index);
  }

  help() {
    this.info('Commands (anything else starting with / is sent to the server as typed):');
    for (const [usage, what] of HELP) this.info(`  ${usage}: ${what}`);
  }

  say(text) {
    const buffer = this.buffer;
    if (buffer.kind === 'server') return this.info('Go to a room to talk (/join #room), or type a /command.', 'error');
    this.sayTo(buffer.name, text);
  }

  /** Send a message to ``target``; shown when the server echoes it back (or at once, without echo-message). */
  sayTo(target, text, kind = 'message', shown = text) {
    if (!this.client.connected) return this.info('Not connected: the message was not sent.', 'error');
    this.client.send('PRIVMSG', [target, text]);
    if (this.state.caps.has('echo-message')) return;
    const buffer = this.state.ensure(target);
    const msg = { id: '', time: new Date(), nick: this.state.nick, text: shown, self: true, kind };
    const index = buffer.add(msg);
    if (buffer === this.buffer) this.ui.added(buffer, msg, index);
  }

  login(name, password) {
    this.client.settings.password = password;
    this.client.saslAccount = name;
    this.client.send('AUTHENTICATE', ['PLAIN']);
  }

  list() {
    this.client.send('LIST', []);
  }

  memberNames() {
    return this.state.sortedMembers(this.buffer).map((m) => m.prefixes.slice(0, 1) + m.nick);
  }

  // -- the message box and the side panels ---------------------------------------------------------------

  wireChat() {
    const input = $('input');
    $('send-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const text = input.value;
      input.value = '';
      if (!text.trim()) return;
      this.sent.push(text);
      this.sentAt = -1;
      for (const line of text.split(/\r?\n/)) if (line.trim()) run(this, line);
    });
    input.addEventListener('keydown', (event) => this.key(event));
    $('join-form').addEventListener('submit', (event) => {
      event.preventDefault();
      let name = $('join-input').value.trim();
      if (!name) return;
      if (!this.state.isChannel(name)) name = '#' + name;
      $('join-input').value = '';
      this.join(name);
    });
    $('browse').addEventListener('click', () => this.list());
    $('disconnect').addEventListener('click', () => this.quit('Leaving'));
    $('status').addEventListener('click', () => this.client.retry());
    window.addEventListener('online', () => this.client.retry());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.select(this.state.active);
    });
    this.wireNotifications();
  }

  wireNotifications() {
    const button = $('notify');
    if (!('Notification' in window) || Notification.permission !== 'default') {
      button.hidden = true;
      return;
    }
    button.addEventListener('click', async () => {
      const answer = await Notification.requestPermission();
      button.hidden = answer !== 'default';
    });
  }

  key(event) {
    const input = event.target;
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('send-form').requestSubmit();
    } else if (event.key === 'Tab' && input.value && !event.shiftKey) {
      const before = input.value.slice(0, input.selectionStart);
      const word = /\S*$/.exec(before)[0];
      const found = word && this.memberNames().map((n) => n.replace(/^[@+%&~]/, ''))
        .find((n) => n.toLowerCase().startsWith(word.toLowerCase()));
      if (found) {
        event.preventDefault();
        const done = found + (before.length === word.length ? ': ' : ' ');
        input.value = before.slice(0, before.length - word.length) + done + input.value.slice(before.length);
      }
    } else if ((event.key === 'ArrowUp' || event.key === 'ArrowDown') && !event.altKey && !input.value.includes('\n')) {
      if (!this.sent.length || (event.key === 'ArrowUp' && input.value && this.sentAt < 0)) return;
      event.preventDefault();
      const step = event.key === 'ArrowUp' ? -1 : 1;
      const at = this.sentAt < 0 ? this.sent.length : this.sentAt;
      const next = Math.min(this.sent.length, Math.max(0, at + step));
      this.sentAt = next >= this.sent.length ? -1 : next;
      input.value = this.sentAt < 0 ? '' : this.sent[next];
    }
  }
}

window.hubbub = new App();
