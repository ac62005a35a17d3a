// The slash commands of the message box: netcat's (/join, /nick, /msg, /me, /part, /quit, /who, /rooms,
// /help ...) and IRC clients' usual ones. A command the page does not know is sent to the server as it is
// typed (as /quote does), so every IRC command the server has is at hand.

import { action } from './irc.js';

/** name -> [usage, what it does]; the help text lists them in this order. */
export const HELP = [
  ['/join #room [key]', 'go to a room (it is created if it does not exist)'],
  ['/part [#room] [reason]', 'leave this room (or the one named)'],
  ['/nick NAME', 'change your nickname'],
  ['/msg NICK text', 'send a private message'],
  ['/query NICK [text]', 'open a private conversation'],
  ['/me action', 'describe an action (* you wave)'],
  ['/notice TARGET text', 'send a notice'],
  ['/topic [text]', "show or set this room's topic"],
  ['/who, /names [#room]', 'list the members of a room'],
  ['/list, /rooms', 'browse the rooms'],
  ['/whois NICK', 'who someone is'],
  ['/away [message], /back', 'say you are away, or back'],
  ['/invite NICK [#room]', 'invite someone to this room'],
  ['/kick NICK [reason]', 'remove someone from this room (operators)'],
  ['/op, /deop, /voice, /devoice NICK', "change someone's status in this room"],
  ['/mode [target] [modes]', 'show or change modes'],
  ['/register PASSWORD', 'register your nickname as an account'],
  ['/login [NAME] PASSWORD', 'log in to your account'],
  ['/history', 'load older messages of this conversation'],
  ['/clear', 'clear this window (history stays on the server)'],
  ['/close', 'leave this room or close this conversation'],
  ['/quote LINE', 'send an IRC line as it is (unknown commands are sent as typed too)'],
  ['/quit [reason]', 'leave the server'],
  ['/help', 'this text'],
];

/**
 * Run one line typed in the message box.
 * @param app what commands act on: client, state, buffer (the active one), say(text), open(name),
 *   leave(buffer, reason), quit(reason), help(), info(text), history(), login(name, password), list()
 */
export function run(app, text) {
  if (!text.startsWith('/') || text.startsWith('//')) {
    app.say(text.startsWith('//') ? text.slice(1) : text);
    return;
  }
  const space = text.indexOf(' ');
  const name = (space < 0 ? text.slice(1) : text.slice(1, space)).toLowerCase();
  const rest = space < 0 ? '' : text.slice(space + 1).trim();
  const words = rest.split(/\s+/).filter(Boolean);
  const client = app.client;
  const buffer = app.buffer;
  const room = buffer.kind === 'channel' ? buffer.name : '';
  const needRoom = () => {
    if (!room) app.info('This is not a room: go to one first (/join #room)', 'error');
    return !!room;
  };
  const tail = (n) => words.slice(n).join(' ');
  switch (name) {
    case 'join':
    case 'j':
      if (!words.length) return app.info('Usage: /join #room', 'error');
      if (words.length > 1) {
        client.send('JOIN', [words[0], words[1]]);
        app.follow(words[0]);
      } else {
        app.join(words[0]);
      }
      return;
    case 'part':
    case 'leave': {
      const named = words.length && app.state.isChannel(words[0]);
      if (!named && !needRoom()) return;
      client.send('PART', [named ? words[0] : room, named ? tail(1) : rest].filter(Boolean));
      return;
    }
    case 'nick':
      if (!words.length) return app.info(`You are ${app.state.nick}. Usage: /nick NAME`);
      client.send('NICK', [words[0]]);
      return;
    case 'msg':
    case 'query': {
      if (!words.length) return app.info(`Usage: /${name} NICK ${name === 'msg' ? 'text' : '[text]'}`, 'error');
      const message = rest.slice(rest.indexOf(words[0]) + words[0].length).trim();
      if (name === 'msg' && !message) return app.info('Usage: /msg NICK text', 'error');
      if (name === 'query' || !app.state.isChannel(words[0])) app.open(words[0], name === 'query');
      if (message) app.sayTo(words[0], message);
      return;
    }
    case 'me':
      if (!rest) return app.info('Usage: /me action', 'error');
      app.sayTo(buffer.name, action(rest), 'action', rest);
      return;
    case 'notice':
      if (words.length < 2) return app.info('Usage: /notice TARGET text', 'error');
      client.send('NOTICE', [words[0], tail(1)]);
      return;
    case 'topic':
      if (words.length && app.state.isChannel(words[0])) {
        client.send('TOPIC', words.length > 1 ? [words[0], tail(1)] : [words[0]]);
      } else if (needRoom()) {
        client.send('TOPIC', rest ? [room, rest] : [room]);
      }
      return;
    case 'who':
    case 'names':
      if (words.length) client.send('NAMES', [words[0]]);
      else if (needRoom()) app.info(`${buffer.members.size} in ${room}: ${app.memberNames().join(', ')}`);
      return;
    case 'list':
    case 'rooms':
      app.list();
      return;
    case 'whois':
    case 'wi':
      if (!words.length) return app.info('Usage: /whois NICK', 'error');
      client.send('WHOIS', [words[0]]);
      return;
    case 'away':
      client.send('AWAY', rest ? [rest] : []);
      return;
    case 'back':
      client.send('AWAY', []);
      return;
    case 'invite':
      if (!words.length) return app.info('Usage: /invite NICK [#room]', 'error');
      if (words[1] || needRoom()) client.send('INVITE', [words[0], words[1] || room]);
      return;
    case 'kick':
      if (!words.length) return app.info('Usage: /kick NICK [reason]', 'error');
      if (needRoom()) client.send('KICK', [room, words[0], ...(words.length > 1 ? [tail(1)] : [])]);
      return;
    case 'op':
    case 'deop':
    case 'voice':
    case 'devoice': {
      if (!words.length) return app.info(`Usage: /${name} NICK`, 'error');
      const sign = name.startsWith('de') ? '-' : '+';
      const letter = name.endsWith('op') ? 'o' : 'v';
      if (needRoom()) client.send('MODE', [room, sign + letter.repeat(words.length), ...words]);
      return;
    }
    case 'mode':
      if (!words.length || !/^[#&!+]|^[A-Za-z[\]\\`_^{|}]/.test(words[0]) || /^[+-]/.test(words[0])) {
        if (needRoom()) client.send('MODE', [room, ...words]);
      } else {
        client.send('MODE', words);
      }
      return;
    case 'register':
      if (!words.length) return app.info('Usage: /register PASSWORD', 'error');
      client.send('REGISTER', ['*', '*', words[words.length - 1]]);
      return;
    case 'login':
    case 'identify':
      if (!words.length) return app.info('Usage: /login [NAME] PASSWORD', 'error');
      app.login(words.length > 1 ? words[0] : app.state.nick, words[words.length - 1]);
      return;
    case 'history':
      app.history();
      return;
    case 'clear':
      buffer.clear();
      app.redraw();
      return;
    case 'close':
      app.close(buffer);
      return;
    case 'quote':
    case 'raw':
      if (rest) client.sendRaw(rest);
      return;
    case 'quit':
    case 'exit':
      app.quit(rest || 'Leaving');
      return;
    case 'help':
      app.help();
      return;
    default:
      client.sendRaw(text.slice(1));
  }
}
