// What the server says, command by command: each handler updates the State and tells the page (the client's
// hooks) what changed. ``live`` is false for lines replayed from a batch.

import { casefolder, mentions, parseCtcp, parsePrefix, serverTime } from './irc.js';
import { SERVER } from './state.js';

function message(msg, fields) {
  return { id: msg.tags.msgid || '', time: serverTime(msg.tags.time), nick: '', text: '', self: false, ...fields };
}

/** Put ``entry`` in ``buffer`` and tell the page (nothing if its msgid is there already). */
function show(client, buffer, entry, live, older = false) {
  const index = buffer.add(entry, older);
  if (index >= 0) client.hooks.message(buffer, entry, index, live);
}

function info(client, text, kind = 'info', buffer = null) {
  const target = buffer || client.state.activeBuffer();
  show(client, target, { id: '', time: new Date(), nick: '', text, self: false, kind }, true);
}

function serverLine(client, msg, text, kind = 'info') {
  show(client, client.state.get(SERVER), message(msg, { text, kind }), true);
}

function event(client, buffer, msg, text) {
  show(client, buffer, message(msg, { text, kind: 'event' }), true);
}

const fromServer = (msg) => !msg.source || (!msg.source.user && !msg.source.host);

/** A PRIVMSG or NOTICE: which buffer, what kind, whether it mentions me. */
function chat(client, msg, live, batchTarget = null, older = false) {
  const state = client.state;
  const [target = '', text = ''] = msg.params;
  const notice = msg.command === 'NOTICE';
  if (fromServer(msg)) {
    if (!state.nick || target === '*' || state.isMe(target)) return serverLine(client, msg, text, 'notice');
  }
  const nick = msg.source ? msg.source.nick : '';
  const ctcp = parseCtcp(text);
  if (ctcp && (notice || ctcp.verb !== 'ACTION')) return; // other CTCP requests and replies are not shown
  const self = state.isMe(nick);
  let name = target.replace(new RegExp(`^[${state.prefix.order.replace(/[\]\\^-]/g, '\\$&')}]+`), '');
  if (!state.isChannel(name)) name = self ? target : nick;
  const buffer = state.ensure(batchTarget && !state.isChannel(name) ? batchTarget : name);
  const body = ctcp ? ctcp.arg : text;
  const kind = ctcp ? 'action' : notice ? 'notice' : 'message';
  const mention = !self && (buffer.kind === 'query' || mentions(body, state.nick));
  show(client, buffer, message(msg, { nick, text: body, kind, self, mention }), live, older);
}

function joined(client, msg) {
  const state = client.state;
  const [channel] = msg.params;
  const nick = msg.source.nick;
  const buffer = state.ensure(channel, 'channel');
  if (state.isMe(nick)) {
    buffer.name = channel;
    buffer.joined = true;
    buffer.members.clear();
    client.roomJoined(channel);
    client.hooks.joined(buffer);
    if (!client.history(buffer, buffer.newest() ? 'after' : 'latest')) client.hooks.history(buffer);
  } else {
    state.addMember(buffer, nick);
    event(client, buffer, msg, `${nick} joined`);
  }
  client.hooks.changed();
}

function left(client, msg, buffer, nick, text) {
  const state = client.state;
  if (state.isMe(nick)) {
    buffer.joined = false;
    buffer.members.clear();
    client.roomLeft(buffer.name);
  } else {
    state.removeMember(buffer, nick);
  }
  event(client, buffer, msg, text);
  client.hooks.changed();
}

function modes(client, msg) {
  const state = client.state;
  const [target, change = '', ...args] = msg.params;
  const who = msg.source ? msg.source.nick : '';
  if (!state.isChannel(target)) {
    if (state.isMe(target) && who && !state.isMe(who)) serverLine(client, msg, `${who} sets mode ${change}`);
    return;
  }
  const buffer = state.ensure(target, 'channel');
  const [withArg, argOnSet] = state.chanmodes || ['beI', 'kfl'];
  let on = true;
  let next = 0;
  for (const mode of change) {
    if (mode === '+' || mode === '-') {
      on = mode === '+';
    } else if (state.prefix.modes[mode]) {
      state.setMode(buffer, args[next++] || '', mode, on);
    } else if (withArg.includes(mode) || mode === 'k' || (on && argOnSet.includes(mode))) {
      next++;
    }
  }
  event(client, buffer, msg, `${who} sets mode ${[change, ...args].join(' ')}`);
  client.hooks.changed();
}

function isupport(client, msg) {
  const state = client.state;
  for (const token of msg.params.slice(1, -1)) {
    const [key, value = ''] = token.split('=', 2);
    if (key === 'PREFIX') state.prefix = parsePrefix(value);
    else if (key === 'CHANTYPES') state.chantypes = value || '#';
    else if (key === 'NETWORK') state.network = value;
    else if (key === 'CASEMAPPING') state.fold = casefolder(value);
    else if (key === 'CHATHISTORY') state.historyMax = parseInt(value, 10) || 0;
    else if (key === 'CHANMODES') {
      const [a = '', b = '', c = ''] = value.split(',');
      state.chanmodes = [a + b, c];
    }
  }
}

/** Numerics that make no line of their own (their data is used), and those that go to the server buffer. */
const QUIET = new Set(['004', '005', '329', '333', '353', '366', '321', '323', '331', '332', '900', '903']);
const WHOIS = new Set(['301', '307', '311', '312', '313', '317', '319', '320', '330', '338', '378', '379', '671', '276']);

function numeric(client, msg) {
  const state = client.state;
  const code = msg.command;
  const params = msg.params;
  const text = params[params.length - 1] || '';
  switch (code) {
    case '001':
      client.registered = true;
      client.attempt = 0;
      state.nick = params[0];
      client.hooks.registered();
      break;
    case '005':
      isupport(client, msg);
      return;
    case '331':
    case '332': {
      const buffer = state.ensure(params[1], 'channel');
      buffer.topic = code === '332' ? text : '';
      client.hooks.changed();
      return;
    }
    case '353': {
      const key = state.fold(params[2]);
      const list = client.names.get(key) || [];
      for (const entry of text.split(' ')) if (entry) list.push(state.splitPrefixes(entry));
      client.names.set(key, list);
      return;
    }
    case '366': {
      const buffer = state.get(params[1]);
      const list = client.names.get(state.fold(params[1])) || [];
      client.names.delete(state.fold(params[1]));
      if (buffer && buffer.joined) {
        buffer.members.clear();
        for (const { nick, prefixes } of list) state.addMember(buffer, nick, prefixes);
        client.hooks.changed();
      } else if (list.length) {
        info(client, `${params[1]}: ${list.map((m) => m.prefixes + m.nick).join(' ')}`);
      }
      return;
    }
    case '321':
      client.listRows = [];
      return;
    case '322':
      (client.listRows ||= []).push({ name: params[1], count: parseInt(params[2], 10) || 0, topic: text });
      return;
    case '323':
      client.hooks.list(client.listRows || []);
      client.listRows = null;
      return;
    case '900':
      state.account = params[2] || '';
      client.hooks.account(state.account);
      return;
    case '901':
      state.account = '';
      client.hooks.account('');
      break;
    case '903':
      client.endCaps();
      return;
    case '902': case '904': case '905': case '906': case '907': case '908':
      if (!client.registered) return client.fail(text.replace(/^SASL authentication failed: ?/, 'Login failed: '));
      break;
    case '432':
    case '433':
      if (!client.registered) {
        if (code === '433') return client.nextNick();
        return client.fail(`${params[1]}: ${text}`);
      }
      break;
    default:
  }
  if (QUIET.has(code)) return;
  if (WHOIS.has(code) || code === '318') {
    if (code !== '318') info(client, `${params[1]}: ${params.slice(2).join(' ')}`);
    return;
  }
  const error = code[0] === '4' || code[0] === '5';
  const shown = params.slice(1, -1).filter((p) => p !== '*' && !state.isMe(p));
  const line = (shown.length ? `${shown.join(' ')}: ` : '') + text;
  if (error) info(client, line, 'error');
  else serverLine(client, msg, line);
}

export const HANDLERS = {
  numeric,
  PING(client, msg) {
    client.send('PONG', msg.params);
  },
  CAP(client, msg) {
    const [, sub, ...rest] = msg.params;
    const list = rest[rest.length - 1] || '';
    if (sub === 'LS') client.capsListed(list, rest.length > 1 && rest[0] === '*');
    else if (sub === 'ACK') client.capsAcknowledged(list);
    else if (sub === 'NAK' && !client.registered) client.endCaps();
    else if (sub === 'DEL') for (const cap of list.split(' ')) client.state.caps.delete(cap);
  },
  AUTHENTICATE(client, msg) {
    if (msg.params[0] === '+') client.authenticate(client.saslAccount || client.settings.account || client.settings.nick);
  },
  REGISTER(client, msg) {
    if (msg.params[0] === 'SUCCESS') {
      client.hooks.registeredAccount(msg.params[1]);
      if (!client.registered) client.endCaps();
      else info(client, msg.params[msg.params.length - 1]);
    }
  },
  FAIL(client, msg) {
    const [command, code, ...rest] = msg.params;
    const text = rest[rest.length - 1] || code;
    if (command === 'REGISTER' && !client.registered) return client.fail(`Registration failed: ${text}`);
    if (command === 'CHATHISTORY') {
      const buffer = client.state.get(rest.length > 1 ? rest[0] : '') || client.state.activeBuffer();
      buffer.loading = null;
      buffer.historyDone = true;
    }
    info(client, `${command}: ${text}`, 'error');
  },
  WARN(client, msg) {
    info(client, msg.params[msg.params.length - 1], 'notice');
  },
  NOTE(client, msg) {
    info(client, msg.params[msg.params.length - 1], 'notice');
  },
  ERROR(client, msg) {
    serverLine(client, msg, msg.params[0] || 'Closing', 'error');
  },
  BATCH(client, msg) {
    const [refTag, type = '', ...params] = msg.params;
    const ref = refTag.slice(1);
    if (refTag[0] === '+') {
      client.batches.set(ref, { type, params, lines: [] });
      return;
    }
    const batch = client.batches.get(ref);
    client.batches.delete(ref);
    if (!batch) return;
    if (batch.type === 'chathistory' || batch.type === 'draft/chathistory') {
      const buffer = client.state.ensure(batch.params[0]);
      // Older lines go in newest first, each before those of its millisecond that are here already.
      const older = !!buffer.loading && buffer.loading.sub === 'before';
      for (const line of older ? [...batch.lines].reverse() : batch.lines) {
        if (line.command === 'PRIVMSG' || line.command === 'NOTICE') chat(client, line, false, buffer.name, older);
      }
      client.historyDone(buffer, batch.lines.length);
      client.hooks.history(buffer);
    } else {
      for (const line of batch.lines) client.dispatch(line, true);
    }
  },
  PRIVMSG: chat,
  NOTICE: chat,
  JOIN: joined,
  PART(client, msg) {
    const buffer = client.state.get(msg.params[0]);
    const nick = msg.source.nick;
    const reason = msg.params[1] ? ` (${msg.params[1]})` : '';
    if (buffer) left(client, msg, buffer, nick, `${nick} left${reason}`);
  },
  KICK(client, msg) {
    const [channel, nick, reason = ''] = msg.params;
    const buffer = client.state.get(channel);
    if (buffer) left(client, msg, buffer, nick, `${msg.source.nick} kicked ${nick}${reason ? ` (${reason})` : ''}`);
  },
  QUIT(client, msg) {
    const nick = msg.source.nick;
    for (const buffer of client.state.buffersOf(nick)) {
      client.state.removeMember(buffer, nick);
      event(client, buffer, msg, `${nick} quit${msg.params[0] ? ` (${msg.params[0]})` : ''}`);
    }
    client.hooks.changed();
  },
  NICK(client, msg) {
    const state = client.state;
    const old = msg.source.nick;
    const nick = msg.params[0];
    const buffers = state.buffersOf(old);
    if (state.isMe(old)) {
      state.nick = nick;
      client.hooks.nick(nick);
      info(client, `You are now known as ${nick}`, 'event', state.get(SERVER));
    }
    state.renameMember(old, nick);
    if (state.get(old) && state.get(old).kind === 'query') state.rename(old, nick);
    for (const buffer of buffers) event(client, buffer, msg, `${old} is now known as ${nick}`);
    client.hooks.changed();
  },
  MODE: modes,
  TOPIC(client, msg) {
    const [channel, topic = ''] = msg.params;
    const buffer = client.state.ensure(channel, 'channel');
    buffer.topic = topic;
    const who = msg.source ? msg.source.nick : '';
    event(client, buffer, msg, topic ? `${who} set the topic: ${topic}` : `${who} cleared the topic`);
    client.hooks.changed();
  },
  AWAY(client, msg) {
    client.state.setAway(msg.source.nick, !!msg.params[0]);
    client.hooks.changed();
  },
  INVITE(client, msg) {
    const [nick, channel] = msg.params;
    const text = client.state.isMe(nick)
      ? `${msg.source.nick} invites you to ${channel} (/join ${channel})`
      : `${msg.source.nick} invited ${nick} to ${channel}`;
    info(client, text, 'event');
  },
  ACCOUNT(client, msg) {
    if (client.state.isMe(msg.source.nick)) client.state.account = msg.params[0] === '*' ? '' : msg.params[0];
  },
};
