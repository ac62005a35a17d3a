// The page's DOM: the room list, the messages, the members, the topic, the room browser. Every text that
// came from the network is put in as text (textContent, text nodes), never as HTML; links are built
// element by element, for http and https URLs only.

import { linkify, nickColour, stripFormatting } from './irc.js';
import { SERVER } from './state.js';

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

function dayOf(date) {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** The message's text as nodes: formatting stripped, URLs as links (opened elsewhere, with no referrer). */
export function textNodes(text) {
  const out = [];
  for (const piece of linkify(stripFormatting(text))) {
    if (piece.url) {
      const a = el('a', '', piece.text);
      a.href = piece.url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      out.push(a);
    } else {
      out.push(document.createTextNode(piece.text));
    }
  }
  return out;
}

export class UI {
  constructor(state, actions) {
    this.state = state;
    this.actions = actions; // select(name), close(name), older(), send(text), join(name), ...
    this.log = $('log');
    this.older = el('button', 'older quiet', 'Load older messages');
    this.older.type = 'button';
    this.older.addEventListener('click', () => actions.older());
    this.log.addEventListener('scroll', () => {
      if (this.log.scrollTop < 40) actions.older();
    });
    this.lastDay = '';
    this.wire();
  }

  wire() {
    const toggle = (button, panel) => {
      button.addEventListener('click', () => {
        const open = !panel.classList.contains('open');
        this.closePanels();
        panel.classList.toggle('open', open);
        button.setAttribute('aria-expanded', String(open));
      });
    };
    toggle($('toggle-rooms'), $('rooms'));
    toggle($('toggle-members'), $('members'));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.closePanels();
      if (event.altKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
        event.preventDefault();
        this.cycle(event.key === 'ArrowUp' ? -1 : 1);
      }
    });
    $('list-close').addEventListener('click', () => $('list-dialog').close());
    $('list-filter').addEventListener('input', () => this.filterList());
  }

  closePanels() {
    for (const [button, panel] of [['toggle-rooms', 'rooms'], ['toggle-members', 'members']]) {
      $(panel).classList.remove('open');
      $(button).setAttribute('aria-expanded', 'false');
    }
  }

  cycle(step) {
    const names = this.state.ordered().map((b) => b.name);
    const at = names.findIndex((n) => this.state.key(n) === this.state.key(this.state.active));
    const next = names[(at + step + names.length) % names.length];
    if (next) this.actions.select(next);
  }

  setStatus(text, offline = false) {
    const status = $('status');
    status.textContent = text;
    status.classList.toggle('offline', offline);
  }

  // -- the room list -----------------------------------------------------------------------------------

  renderRooms() {
    const list = $('room-list');
    const items = [];
    let unread = 0;
    for (const buffer of this.state.ordered()) {
      const li = el('li');
      const button = el('button');
      button.type = 'button';
      const isServer = buffer.kind === 'server';
      const name = el('span', isServer ? 'server' : '', isServer ? this.state.network || 'server' : buffer.name);
      button.append(name);
      const current = this.state.key(buffer.name) === this.state.key(this.state.active);
      button.setAttribute('aria-current', String(current));
      let label = isServer ? 'Server messages' : buffer.name;
      if (buffer.kind === 'channel' && !buffer.joined) label += ' (not joined)';
      if (buffer.unread) {
        button.classList.add('unread');
        const badge = el('span', buffer.mentions ? 'badge mention' : 'badge', String(buffer.unread));
        button.append(badge);
        label += `, ${buffer.unread} unread` + (buffer.mentions ? `, ${buffer.mentions} mentioning you` : '');
        unread += buffer.unread;
      }
      button.setAttribute('aria-label', label);
      button.dataset.buffer = buffer.name;
      button.addEventListener('click', () => this.actions.select(buffer.name));
      li.append(button);
      items.push(li);
    }
    list.replaceChildren(...items);
    document.title = (unread ? `(${unread}) ` : '') + (this.state.network || 'hubbub');
  }

  // -- the heading and the members ---------------------------------------------------------------------

  renderHeading() {
    const buffer = this.state.activeBuffer();
    $('title').textContent = buffer.kind === 'server' ? this.state.network || 'hubbub' : buffer.name;
    const topic = $('topic');
    topic.textContent = buffer.kind === 'channel' ? stripFormatting(buffer.topic || '') : '';
    topic.title = topic.textContent ? 'Topic: ' + topic.textContent : '';
    $('input').placeholder = buffer.kind === 'server' ? 'A /command, or /help' : `Message ${buffer.name}`;
  }

  renderMembers() {
    const buffer = this.state.activeBuffer();
    const members = buffer.kind === 'channel' ? this.state.sortedMembers(buffer) : [];
    $('member-count').textContent = buffer.kind === 'channel' ? `(${members.length})` : '';
    $('member-list').replaceChildren(
      ...members.map((m) => {
        const li = el('li', m.away ? 'away' : '');
        li.append(el('span', 'prefix', m.prefixes.slice(0, 1)), el('span', `c${nickColour(m.nick)}`, m.nick));
        li.title = m.prefixes + m.nick + (m.away ? ' (away)' : '');
        return li;
      }),
    );
  }

  // -- the messages ------------------------------------------------------------------------------------

  messageNode(msg) {
    const row = el('div', `msg ${msg.kind}${msg.mention ? ' mention' : ''}${msg.self ? ' self' : ''}`);
    if (msg.id) row.dataset.msgid = msg.id;
    const time = el('time', '', timeFormat.format(msg.time));
    time.dateTime = msg.time.toISOString();
    time.title = fullFormat.format(msg.time);
    row.append(time);
    if (msg.nick) {
      const shown = msg.kind === 'action' ? `* ${msg.nick}` : msg.kind === 'notice' ? `-${msg.nick}-` : msg.nick;
      row.append(el('span', `nick c${nickColour(msg.nick)}`, shown));
    }
    const body = el('span', 'body');
    body.append(...textNodes(msg.text));
    row.append(body);
    return row;
  }

  dayNode(date) {
    const day = el('div', 'day', dayFormat.format(date));
    day.setAttribute('role', 'separator');
    return day;
  }

  atBottom() {
    const log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  }

  scrollToBottom() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** The active buffer's messages again; ``keep``: keep the view where it was (older lines came above). */
  renderLog(keep = false) {
    const log = this.log;
    const fromBottom = log.scrollHeight - log.scrollTop;
    const buffer = this.state.activeBuffer();
    const nodes = [];
    this.older.hidden = buffer.kind === 'server' || buffer.historyDone;
    nodes.push(this.older);
    let day = '';
    for (const msg of buffer.messages) {
      const today = dayOf(msg.time);
      if (today !== day) {
        nodes.push(this.dayNode(msg.time));
        day = today;
      }
      nodes.push(this.messageNode(msg));
    }
    this.lastDay = day;
    log.replaceChildren(...nodes);
    if (keep) log.scrollTop = log.scrollHeight - fromBottom;
    else this.scrollToBottom();
  }

  /** A message added to the active buffer at ``index``: appended if it is the newest, else a redraw. */
  added(buffer, msg, index) {
    if (index !== buffer.messages.length - 1) {
      this.renderLog(!this.atBottom());
      return;
    }
    const stick = this.atBottom();
    const today = dayOf(msg.time);
    if (today !== this.lastDay) {
      this.log.append(this.dayNode(msg.time));
      this.lastDay = today;
    }
    this.log.append(this.messageNode(msg));
    if (stick || msg.self) this.scrollToBottom();
  }

  /** Tell screen readers about a new message in the buffer they are reading. */
  announce(msg) {
    const who = msg.nick ? (msg.kind === 'action' ? `${msg.nick} ` : `${msg.nick}: `) : '';
    $('live').textContent = who + stripFormatting(msg.text);
  }

  // -- the room browser (LIST) -------------------------------------------------------------------------

  showList(rows) {
    this.listRows = rows.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    this.filterList();
    const dialog = $('list-dialog');
    if (!dialog.open) dialog.showModal();
    $('list-filter').focus();
  }

  filterList() {
    const filter = $('list-filter').value.toLowerCase();
    const rows = (this.listRows || []).filter(
      (r) => !filter || r.name.toLowerCase().includes(filter) || r.topic.toLowerCase().includes(filter),
    );
    const items = rows.map((row) => {
      const li = el('li');
      const join = el('button', '', row.name);
      join.type = 'button';
      join.setAttribute('aria-label', `Join ${row.name}`);
      join.addEventListener('click', () => {
        $('list-dialog').close();
        this.actions.join(row.name);
      });
      li.append(join, el('span', 'count', `${row.count} here`), el('span', 'room-topic', stripFormatting(row.topic)));
      return li;
    });
    if (!items.length) items.push(el('li', 'count', 'No rooms yet: /join #room creates one.'));
    $('list-rows').replaceChildren(...items);
  }

  /** Everything that shows the active buffer. */
  renderAll() {
    this.renderRooms();
    this.renderHeading();
    this.renderMembers();
    this.renderLog();
  }

  isServer(name) {
    return this.state.key(name) === this.state.key(SERVER);
  }
}
