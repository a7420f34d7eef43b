import { proto } from 'baileys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhatsAppTestServer } from './server.js';
import { linkedSocket } from './test-client.js';

/**
 * WhatsApp's limits at the test server, met by the unmodified Baileys socket (no gateway): its two
 * queries answered, the `mex` notifications parsed into its events, and a timelocked number's
 * message to a new chat refused with 463 while its existing chats still go.
 */

const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

describe('the test server\'s reach-out timelock and new-chat cap, with the Baileys socket as it ships', () => {
  const server = new WhatsAppTestServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it('answers the timelock and cap queries, and its notifications become connection.update and message-capping.update', async () => {
    const phone = '15550020101';
    const until = wholeSecond(Date.now() + 3_600_000);
    const cycleEndsAt = wholeSecond(Date.now() + 86_400_000);
    server.limits.change(phone, { timelockUntil: until, cap: { used: 7, total: 50, cycleEndsAt } });
    const { socket } = await linkedSocket(server, phone);
    expect(await socket.fetchAccountReachoutTimelock()).toMatchObject({ isActive: true, timeEnforcementEnds: new Date(until) });
    expect(await socket.fetchNewChatMessageCap()).toMatchObject({ total_quota: 50, used_quota: 7, cycle_end_timestamp: String(cycleEndsAt / 1000) });

    const locks: Array<{ isActive?: boolean; timeEnforcementEnds?: Date }> = [];
    const caps: unknown[] = [];
    socket.ev.on('connection.update', (u) => u.reachoutTimeLock && locks.push(u.reachoutTimeLock));
    socket.ev.on('message-capping.update', (info) => caps.push(info));
    await server.changeLimits(phone, { timelockUntil: null });
    await expect.poll(() => locks.at(-1), { timeout: 10_000 }).toMatchObject({ isActive: false });
    await server.changeLimits(phone, { cap: { used: 50, total: 50, cycleEndsAt } });
    await expect.poll(() => caps.at(-1), { timeout: 10_000 }).toMatchObject({ used_quota: 50, total_quota: 50, capping_status: 'CAPPED' });
    socket.end(undefined);
  });

  it('refuses a timelocked number\'s message to a new chat with 463 (Baileys reports it in error), and delivers to an existing chat', async () => {
    const phone = '15550020202';
    const { socket } = await linkedSocket(server, phone);
    const acks: Array<{ id: string; error?: string }> = [];
    socket.ws.on('CB:ack,class:message', (node: { attrs: { id: string; error?: string } }) => acks.push({ id: node.attrs.id, error: node.attrs.error }));
    const updates: Array<{ id: string; status: number | null | undefined; stub: string[] | null | undefined }> = [];
    socket.ev.on('messages.update', (list) => list.forEach((u) => updates.push({ id: u.key.id!, status: u.update.status, stub: u.update.messageStubParameters })));
    await socket.sendMessage('12125550210@s.whatsapp.net', { text: 'we chat already' }, { messageId: '3EB0TESTLIMIT000001' });
    await expect.poll(() => acks.length, { timeout: 10_000 }).toBe(1);
    await server.changeLimits(phone, { timelockUntil: Date.now() + 3_600_000 }, false);
    await socket.sendMessage('12125550211@s.whatsapp.net', { text: 'hello stranger' }, { messageId: '3EB0TESTLIMIT000002' });
    await socket.sendMessage('12125550210@s.whatsapp.net', { text: 'still here' }, { messageId: '3EB0TESTLIMIT000003' });
    await expect.poll(() => acks, { timeout: 10_000 }).toEqual([
      { id: '3EB0TESTLIMIT000001', error: undefined },
      { id: '3EB0TESTLIMIT000002', error: '463' },
      { id: '3EB0TESTLIMIT000003', error: undefined },
    ]);
    await expect.poll(() => updates.find((u) => u.id === '3EB0TESTLIMIT000002'), { timeout: 10_000 }).toMatchObject({ status: proto.WebMessageInfo.Status.ERROR, stub: ['463', 'Your account has been restricted'] });
    expect(server.chat('12125550211', phone)).toEqual([]);
    expect(server.chat('12125550210', phone).map((m) => m.id)).toEqual(['3EB0TESTLIMIT000001', '3EB0TESTLIMIT000003']);
    socket.end(undefined);
  });
});
