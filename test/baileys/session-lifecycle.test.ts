import { Boom } from '@hapi/boom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { readSession } from '../../src/core/sessions.js';
import { testDialects } from '../helpers/databases.js';
import { DisconnectCodes } from './fake-socket.js';
import { driverHarness, until } from './driver-harness.js';

type Harness = Awaited<ReturnType<typeof driverHarness>>;

const MINUTE = 60_000;

for (const dialect of testDialects()) describe(`Baileys session lifecycle under a fake clock (${dialect})`, () => {
  let h: Harness;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    h = await driverHarness(dialect, { reconnect: { baseDelayMs: 2_000, maxDelayMs: 60_000, giveUpAfterMs: 10 * MINUTE }, linkTimeoutMs: 15_000 });
  });

  afterEach(async () => {
    await h.close();
    vi.useRealTimers();
  });

  const state = async (driver: { session(id: string): Promise<{ state: string }> }, id: string) => (await driver.session(id)).state;

  /** A linked account whose driver has started and whose first socket is open. */
  async function connectedSession() {
    const id = await h.linkedAccount();
    const driver = h.makeDriver();
    await driver.start();
    await until(() => h.sockets.sockets.length === 1);
    h.sockets.last.open();
    await until(async () => (await state(driver, id)) === 'connected');
    return { id, driver };
  }

  it('brings a linked session back on start without a scan, and is connected only while the socket is open', async () => {
    const id = await h.linkedAccount('15550000001');
    const driver = h.makeDriver();
    await driver.start();
    await until(() => h.sockets.sockets.length === 1, 'a socket');
    expect(await state(driver, id)).toBe('reconnecting');
    expect(await driver.isConnected(id)).toBe(false);
    expect(h.sockets.last.auth.creds.me?.id).toBe('15550000001:7@s.whatsapp.net');

    h.sockets.last.open();
    await until(async () => (await state(driver, id)) === 'connected', 'connected');
    expect((await driver.session(id)).phone).toBe('15550000001');
    expect(await driver.isConnected(id)).toBe(true);
    // Recorded a moment after the driver knows it (on PostgreSQL, a round trip later).
    await until(async () => (await readSession(h.store.db, id))?.state === 'connected', 'connected recorded');

    h.sockets.last.close(DisconnectCodes.connectionClosed, 'Connection Terminated');
    // at once, before anything is written
    expect(await driver.isConnected(id)).toBe(false);
    expect(await state(driver, id)).not.toBe('connected');
    await until(async () => (await readSession(h.store.db, id))?.state === 'reconnecting', 'reconnecting recorded');
  });

  it('backs off exponentially with jitter, keeps one socket at a time, and starts over after a success', async () => {
    const id = await h.linkedAccount();
    const driver = h.makeDriver();
    await driver.start();
    await until(() => h.sockets.sockets.length === 1);
    // random() is 0.5: each delay is 3/4 of min(60 s, 2 s · 2ⁿ⁻¹)
    const expected = [1_500, 3_000, 6_000, 12_000, 24_000, 45_000, 45_000];
    for (const [i, delay] of expected.entries()) {
      h.sockets.last.close(i % 2 ? DisconnectCodes.connectionLost : DisconnectCodes.connectionClosed, 'Connection was lost');
      await until(async () => (await driver.session(id)).detail?.includes('Next attempt') === true, 'backoff scheduled');
      expect(await state(driver, id)).toBe('reconnecting');
      // single flight: asking again does not open another socket
      await driver.start();
      expect((await driver.link(id)).state).toBe('reconnecting');
      await vi.advanceTimersByTimeAsync(delay - 100);
      expect(h.sockets.sockets.length, `attempt ${i + 1} waits`).toBe(i + 1);
      await vi.advanceTimersByTimeAsync(200);
      await until(() => h.sockets.sockets.length === i + 2, `attempt ${i + 2}`);
      expect(h.sockets.live().length).toBe(1);
    }
    h.sockets.last.open();
    await until(async () => (await state(driver, id)) === 'connected');
    const before = h.sockets.sockets.length;
    h.sockets.last.close(DisconnectCodes.connectionClosed);
    await until(async () => (await driver.session(id)).detail?.includes('Next attempt') === true);
    await vi.advanceTimersByTimeAsync(1_600);
    await until(() => h.sockets.sockets.length === before + 1, 'first delay again after a success');
    expect(h.disconnectEvents(id)).toEqual([]);
  });

  it('session/link on a linked session that is still starting returns its state and keeps the creds', async () => {
    const id = await h.linkedAccount();
    const driver = h.makeDriver();
    await driver.start();
    const view = await driver.link(id);
    expect(view.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await h.auth.linkedAccounts()).toEqual([id]);
    await until(() => h.sockets.sockets.length === 1);
    expect(h.sockets.live()).toHaveLength(1);
  });

  it('reconnects at once when WhatsApp asks for a restart (515)', async () => {
    const { id, driver } = await connectedSession();
    h.sockets.last.close(DisconnectCodes.restartRequired, 'Stream Errored (restart required)');
    await until(() => h.sockets.sockets.length === 2, 'an immediate new socket');
    h.sockets.last.open();
    await until(async () => (await state(driver, id)) === 'connected');
    expect(h.disconnectEvents(id)).toEqual([]);
  });

  it('gives up after the configured time: disconnected / connection_lost, one session.disconnected, no more sockets', async () => {
    const id = await h.linkedAccount('15550000009');
    const driver = h.makeDriver();
    await driver.start();
    await until(() => h.sockets.sockets.length === 1);
    h.sockets.last.open();
    await until(async () => (await state(driver, id)) === 'connected');
    const started = Date.now();
    for (let i = 0; i < 100 && (await state(driver, id)) !== 'disconnected'; i++) {
      const count = h.sockets.sockets.length;
      h.sockets.last.end(new Boom('WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)', { statusCode: 500 }));
      await until(async () => ['disconnected'].includes(await state(driver, id)) || (await driver.session(id)).detail?.includes('Next attempt') === true);
      if ((await state(driver, id)) === 'disconnected') break;
      await vi.advanceTimersByTimeAsync(61_000);
      await until(() => h.sockets.sockets.length === count + 1);
    }
    const view = await driver.session(id);
    expect(view).toMatchObject({ state: 'disconnected', reason: 'connection_lost', phone: '15550000009' });
    expect(view.detail).toContain('ENOTFOUND');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(elapsed).toBeLessThan(12 * MINUTE);
    await until(() => h.disconnectEvents(id).length > 0, 'the event recorded');
    expect(h.disconnectEvents(id)).toEqual([{ event: 'session.disconnected', phone: '15550000009', reason: 'connection_lost' }]);
    const sockets = h.sockets.sockets.length;
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(h.sockets.sockets.length).toBe(sockets);
    expect(await driver.isConnected(id)).toBe(false);
    // creds are kept: a restart tries again
    expect(await h.auth.linkedAccounts()).toContain(id);
  });

  it('loggedOut (401) clears the creds and ends as logged_out, once', async () => {
    const id = await h.linkedAccount('15550000004');
    const driver = h.makeDriver();
    await driver.start();
    await until(() => h.sockets.sockets.length === 1);
    h.sockets.last.open();
    await until(async () => (await state(driver, id)) === 'connected');
    h.sockets.last.close(DisconnectCodes.loggedOut, 'Stream Errored (conflict)');
    await until(async () => (await state(driver, id)) === 'disconnected');
    expect(await driver.session(id)).toMatchObject({ reason: 'logged_out', phone: '15550000004' });
    await until(async () => (await h.auth.loadCreds(id)) === undefined, 'creds cleared');
    expect(await h.store.db.selectFrom('wa_auth_keys').select('key_id').where('account_id', '=', id).execute()).toEqual([]);
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(h.sockets.sockets.length).toBe(1);
    await until(() => h.disconnectEvents(id).length > 0, 'the event recorded');
    expect(h.disconnectEvents(id)).toEqual([{ event: 'session.disconnected', phone: '15550000004', reason: 'logged_out' }]);
  });

  it('connectionReplaced (440) stops this socket without fighting back and says so', async () => {
    const { id, driver } = await connectedSession();
    h.sockets.last.close(DisconnectCodes.connectionReplaced, 'Stream Errored (conflict)');
    await until(async () => (await state(driver, id)) === 'disconnected');
    const view = await driver.session(id);
    expect(view.reason).toBe('connection_replaced');
    expect(view.detail).toMatch(/opened somewhere else/);
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(h.sockets.sockets.length).toBe(1);
    expect(await h.auth.linkedAccounts()).toContain(id);
  });

  it('surfaces badSession, forbidden, multideviceMismatch and repeated Connection Failure in the session state', async () => {
    const id = await h.linkedAccount();
    const driver = h.makeDriver();
    await driver.start();
    await until(() => h.sockets.sockets.length === 1);
    const cases: Array<[number, string, RegExp]> = [
      [DisconnectCodes.badSession, 'Bad MAC', /500 bad session[\s\S]*bad session/],
      [DisconnectCodes.forbidden, 'Connection Failure', /403 forbidden[\s\S]*refused this device/],
      [DisconnectCodes.multideviceMismatch, 'Multi-device beta not joined', /411 multi-device mismatch/],
      [405, 'Connection Failure', /405/],
      [405, 'Connection Failure', /405 unknown reason\), 2 times in a row/],
    ];
    for (const [code, message, pattern] of cases) {
      const count = h.sockets.sockets.length;
      h.sockets.last.close(code, message);
      await until(async () => pattern.test((await driver.session(id)).detail ?? ''), `detail for ${code}`);
      expect((await driver.session(id)).reason).toContain(String(code));
      await until(async () => pattern.test((await readSession(h.store.db, id))?.detail ?? ''), `recorded detail for ${code}`);
      await vi.advanceTimersByTimeAsync(61_000);
      await until(() => h.sockets.sockets.length === count + 1);
    }
    expect(await state(driver, id)).toBe('reconnecting');
  });

  it('links with a QR kept fresh, then the scan, the 515 restart, and connected with the number', async () => {
    const id = await h.newAccount();
    const driver = h.makeDriver();
    await driver.start();
    expect(await state(driver, id)).toBe('unlinked');
    const linking = driver.link(id);
    await until(() => h.sockets.sockets.length === 1);
    h.sockets.last.qr('2@first-qr');
    const view = await linking;
    expect(view).toMatchObject({ state: 'linking', qr: '2@first-qr' });
    h.sockets.last.qr('2@second-qr');
    await until(async () => (await driver.session(id)).qr === '2@second-qr', 'rotated QR');
    // asking again does not start another socket
    expect((await driver.link(id)).qr).toBe('2@second-qr');
    expect(h.sockets.sockets.length).toBe(1);

    h.sockets.last.pairSuccess('15550000002');
    await until(() => h.sockets.sockets.length === 2, 'the restart after pairing');
    expect(h.sockets.last.auth.creds.me?.id).toBe('15550000002:7@s.whatsapp.net');
    h.sockets.last.open();
    await until(async () => (await state(driver, id)) === 'connected');
    expect((await driver.session(id)).phone).toBe('15550000002');
    expect(await h.auth.linkedAccounts()).toEqual([id]);

    // a restart of the server brings it back without a scan
    await driver.stop();
    expect((await readSession(h.store.db, id))?.state).toBe('reconnecting');
    const again = h.makeDriver();
    await again.start();
    await until(() => h.sockets.sockets.length === 3);
    expect(h.sockets.last.auth.creds.me?.id).toBe('15550000002:7@s.whatsapp.net');
    h.sockets.last.open();
    await until(async () => (await state(again, id)) === 'connected');
  });

  it('answers session/link with a clear error when WhatsApp cannot be reached, without retrying', async () => {
    const id = await h.newAccount();
    const driver = h.makeDriver();
    await driver.start();
    const linking = driver.link(id);
    const outcome = linking.catch((error: unknown) => error);
    await until(() => h.sockets.sockets.length === 1);
    h.sockets.last.end(new Boom('WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)', { statusCode: 500 }));
    const error = await outcome;
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('service_unavailable');
    expect((error as AppError).message).toMatch(/Could not reach WhatsApp.*ENOTFOUND/);
    expect(await driver.session(id)).toMatchObject({ state: 'unlinked' });
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(h.sockets.sockets.length).toBe(1);
    expect(h.sockets.live()).toEqual([]);
  });

  it('answers session/link with an error after the link timeout when WhatsApp never answers', async () => {
    const id = await h.newAccount();
    const driver = h.makeDriver();
    await driver.start();
    const outcome = driver.link(id).catch((error: unknown) => error);
    await until(() => h.sockets.sockets.length === 1);
    await vi.advanceTimersByTimeAsync(15_100);
    const error = await outcome;
    expect((error as AppError).code).toBe('service_unavailable');
    expect((error as AppError).message).toMatch(/did not answer within 15 seconds/);
    expect(h.sockets.live()).toEqual([]);
  });

  it('pairs with an 8-character code once the socket is ready', async () => {
    const id = await h.newAccount();
    const driver = h.makeDriver();
    await driver.start();
    const pairing = driver.pair(id, '15550000003');
    await until(() => h.sockets.sockets.length === 1);
    h.sockets.last.qr();
    const view = await pairing;
    expect(view).toMatchObject({ state: 'linking', qr: null, pairingCode: 'ABCD1234' });
    h.sockets.last.qr();
    expect((await driver.session(id)).pairingCode).toBe('ABCD1234');
  });

  it('logs out: unlinks on WhatsApp, clears the creds, ends unlinked without session.disconnected', async () => {
    const { id, driver } = await connectedSession();
    await driver.logout(id);
    expect(h.sockets.last.loggedOut).toBe(true);
    expect(await driver.session(id)).toMatchObject({ state: 'unlinked', phone: null });
    expect(await h.auth.loadCreds(id)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(h.sockets.sockets.length).toBe(1);
    expect(h.disconnectEvents(id)).toEqual([]);
  });

  it('a blip that reconnects raises no session.disconnected; each real disconnect raises one', async () => {
    const { id, driver } = await connectedSession();
    h.sockets.last.close(DisconnectCodes.connectionLost);
    await vi.advanceTimersByTimeAsync(2_000);
    await until(() => h.sockets.sockets.length === 2);
    h.sockets.last.open();
    await until(async () => (await state(driver, id)) === 'connected');
    expect(h.disconnectEvents(id)).toEqual([]);
    h.sockets.last.close(DisconnectCodes.loggedOut);
    await until(async () => (await state(driver, id)) === 'disconnected');
    await until(() => h.disconnectEvents(id).length === 1);
  });
});
