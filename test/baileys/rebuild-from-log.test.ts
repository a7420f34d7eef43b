import { describe, expect, it } from 'vitest';
import { rebuildFromLog, type LoggedMessage } from '../../src/whatsapp/baileys/rebuild-from-log.js';

const USER = '15550000001:1@s.whatsapp.net';
const TO = '12125551234@s.whatsapp.net';
const SECRET = Buffer.alloc(32, 7).toString('base64');

const row = (fields: Partial<LoggedMessage>): LoggedMessage => ({
  id: 'msg_1',
  account_id: 'acc_1',
  recipient: '12125551234',
  kind: 'text',
  text: null,
  filename: null,
  wa_message_id: '3EB0AAAA',
  created_at: Date.UTC(2026, 10, 30),
  content: null,
  ...fields,
});

describe('retry requests answered from the log', () => {
  it('rebuilds what the log holds whole: a poll under its stored secret, a location, a reaction for its target', async () => {
    const poll = await rebuildFromLog(row({ kind: 'poll', content: JSON.stringify({ poll: { question: 'Q?', options: ['a', 'b'], multipleAnswers: false, secret: SECRET } }) }), TO, USER);
    expect(poll.pollCreationMessageV3).toMatchObject({ name: 'Q?', selectableOptionsCount: 1 });
    expect(Buffer.from(poll.messageContextInfo!.messageSecret!).toString('base64')).toBe(SECRET);
    const place = await rebuildFromLog(row({ kind: 'location', content: JSON.stringify({ location: { latitude: 1.5, longitude: 2.5, name: 'here' } }) }), TO, USER);
    expect(place.locationMessage).toMatchObject({ degreesLatitude: 1.5, degreesLongitude: 2.5, name: 'here' });
    const target = { messageId: 'msg_0', waMessageId: '3EB0TARGET', chat: '12125551234', fromMe: true, kind: 'text', text: 'hi' };
    const reaction = await rebuildFromLog(row({ kind: 'reaction', content: JSON.stringify({ reaction: { target, emoji: '👍' } }) }), TO, USER);
    expect(reaction.reactionMessage).toMatchObject({ key: { id: '3EB0TARGET', fromMe: true }, text: '👍' });
  });

  it('answers media (its bytes are not kept), a plain text, and anything while our own jid is unknown with the stand-in', async () => {
    expect(await rebuildFromLog(row({ kind: 'text', text: 'hello' }), TO, USER)).toEqual({ conversation: 'hello' });
    expect((await rebuildFromLog(row({ kind: 'video', text: 'clip', content: JSON.stringify({ gif: true }) }), TO, USER)).conversation).toBe('🎬 Video: clip');
    expect((await rebuildFromLog(row({ kind: 'location', content: JSON.stringify({ location: { latitude: 1, longitude: 2 } }) }), TO, undefined)).conversation).toBe('📍 Location');
  });
});
