import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { admits, decide, effectiveLevel, pushText, reasonFor } from '#shared/domain/notifications.ts';
import { addressProblem, pushEndpointProblem } from '#shared/domain/push-endpoints.ts';
import { stableId } from '#shared/domain/events.ts';
import { vapidKeysFromSeed } from '#shared/adapters/webpush/vapid.ts';
import { webPushRequest } from '#shared/adapters/webpush/sender.ts';
import { notifyKeys, pushSubscriptionEntity, roomNotifyEntity, userPrefEntity } from '#shared/adapters/dynamodb/entities/notification.ts';
import { LEVEL_COPY, member } from '#shared/adapters/dynamodb/entities/member.ts';
import { memberLevels } from '#shared/adapters/dynamodb/entities/member-levels.ts';
import { checkVapid, decryptAes128gcm } from '#test/support/push-service.ts';

const now = new Date('2026-11-29T12:00:00Z');

describe('who is notified (rules)', () => {
  it('levels: a mute wins, then the room, then mine, then mentions', () => {
    expect(effectiveLevel({ userId: 'u', room: {} }, now)).toBe('mentions');
    expect(effectiveLevel({ userId: 'u', notify: 'all', room: {} }, now)).toBe('all');
    expect(effectiveLevel({ userId: 'u', notify: 'all', room: { notify: 'none' } }, now)).toBe('none');
    expect(effectiveLevel({ userId: 'u', notify: 'none', room: { notify: 'all' } }, now)).toBe('all');
    expect(effectiveLevel({ userId: 'u', notify: 'all', room: { mutedUntil: '2026-11-29T13:00:00Z' } }, now)).toBe('none');
    expect(effectiveLevel({ userId: 'u', notify: 'all', room: { mutedUntil: '2026-11-29T11:00:00Z' } }, now)).toBe('all');
  });

  it('reasons and admission', () => {
    expect(reasonFor({ type: 'direct' }, { mentions: [] }, 'u')).toBe('direct');
    expect(reasonFor({ type: 'group' }, { mentions: ['u'] }, 'u')).toBe('mention');
    expect(reasonFor({ type: 'group' }, { mentions: ['v'] }, 'u')).toBe('message');
    expect([admits('mentions', 'direct'), admits('mentions', 'mention'), admits('mentions', 'message')]).toEqual([true, true, false]);
    expect([admits('all', 'message'), admits('none', 'direct'), admits('none', 'mention')]).toEqual([true, false, false]);
  });

  it('coalescing and retries', () => {
    expect(decide(undefined, 5, now, 30)).toEqual({ action: 'send', count: 1 });
    expect(decide({ lastSeq: 5, pending: 0, sentAt: now.toISOString() }, 5, now, 30)).toEqual({ action: 'skip' });
    expect(decide({ lastSeq: 4, pending: 0, sentAt: '2026-11-29T11:59:45Z' }, 5, now, 30)).toEqual({ action: 'coalesce' });
    expect(decide({ lastSeq: 7, pending: 2, sentAt: '2026-11-29T11:59:29Z' }, 8, now, 30)).toEqual({ action: 'send', count: 3 });
  });

  it('push text: the room or the sender, mentions readable, long content cut', () => {
    const m = { senderName: 'Ann', content: `hi <@bo> ${'x'.repeat(300)}`, attachments: [] };
    const group = pushText({ type: 'group', name: 'Crew' }, m, 'mention', 1);
    expect(group.title).toBe('Ann mentioned you in Crew');
    expect(group.body.startsWith('Ann: hi @bo x')).toBe(true);
    expect(group.body.length).toBeLessThan(160);
    expect(pushText({ type: 'direct' }, { ...m, content: 'yo' }, 'direct', 3)).toEqual({ title: 'Ann', body: 'yo (+2 more)' });
  });
});

describe('push endpoints (SSRF)', () => {
  const aws = { allowLoopback: false };
  const local = { allowLoopback: true };
  it('accepts public https endpoints', () => {
    for (const e of ['https://fcm.googleapis.com/fcm/send/abc', 'https://updates.push.services.mozilla.com/wpush/v2/x', 'https://web.push.apple.com/QGx', 'https://8.8.8.8/x'])
      expect(pushEndpointProblem(e, aws), e).toBeUndefined();
  });
  it('refuses the rest, and http://127.0.0.1 outside local mode', () => {
    for (const e of [
      'http://fcm.googleapis.com/x', 'http://127.0.0.1:9000/x', 'https://127.0.0.1/x', 'https://169.254.169.254/latest', 'https://[fd00:ec2::254]/',
      'https://[::1]/', 'https://[::ffff:169.254.169.254]/', 'https://[::ffff:10.0.0.1]/', 'https://[64:ff9b::a9fe:a9fe]/', 'https://[fe80::1]/', 'https://10.1.2.3/', 'https://172.16.0.1/', 'https://192.168.1.1/',
      'https://100.64.0.1/', 'https://0.0.0.0/', 'https://localhost/', 'https://a.localhost/', 'https://metadata.google.internal/', 'https://intranet/',
      'https://u:p@push.example.com/', 'not a url', 'javascript:alert(1)',
    ])
      expect(pushEndpointProblem(e, aws), e).toBeDefined();
    expect(pushEndpointProblem('http://127.0.0.1:9000/x', local)).toBeUndefined();
    expect(pushEndpointProblem('http://localhost:9000/x', local)).toBeDefined();
    expect(pushEndpointProblem('http://10.0.0.1/x', local)).toBeDefined();
  });
  it('checks resolved addresses the same way', () => {
    expect(addressProblem('93.184.216.34', aws)).toBeUndefined();
    expect(addressProblem('169.254.169.254', aws)).toMatch(/link-local/);
    expect(addressProblem('::ffff:10.0.0.1', aws)).toMatch(/private/);
    expect(addressProblem('2606:4700::1111', aws)).toBeUndefined();
  });
});

describe('VAPID keys and Web Push encryption', () => {
  it('derives the same valid P-256 pair from the same seed, another from another', () => {
    const a = vapidKeysFromSeed('s'.repeat(40));
    expect(vapidKeysFromSeed('s'.repeat(40))).toEqual(a);
    expect(vapidKeysFromSeed('t'.repeat(40)).publicKey).not.toBe(a.publicKey);
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(a.privateKey, 'base64url'));
    expect(ecdh.getPublicKey().toString('base64url')).toBe(a.publicKey);
    expect(() => vapidKeysFromSeed('short')).toThrow();
  });

  it('what the adapter builds, the RFC checker verifies and decrypts', async () => {
    const keys = vapidKeysFromSeed('seed-'.repeat(10));
    const ua = createECDH('prime256v1');
    ua.generateKeys();
    const auth = Buffer.alloc(16, 7);
    const endpoint = 'https://push.example.com/sub/1';
    const req = await webPushRequest({ endpoint, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } }, '{"hello":"world"}', { subject: 'mailto:ops@example.com', ...keys }, { ttlSeconds: 60, urgency: 'high', topic: 'abc' });
    expect(req.headers).toMatchObject({ 'Content-Encoding': 'aes128gcm', TTL: '60', Urgency: 'high', Topic: 'abc' });
    const { claims, publicKey } = checkVapid(String(req.headers.Authorization), 'https://push.example.com');
    expect(publicKey).toBe(keys.publicKey);
    expect(claims.sub).toBe('mailto:ops@example.com');
    const plain = decryptAes128gcm(req.body, { privateKey: ua.getPrivateKey(), publicKey: ua.getPublicKey(), auth });
    expect(plain.toString()).toBe('{"hello":"world"}');
    // Another subscription's keys cannot read it.
    const other = createECDH('prime256v1');
    other.generateKeys();
    expect(() => decryptAes128gcm(req.body, { privateKey: other.getPrivateKey(), publicKey: other.getPublicKey(), auth })).toThrow();
  });
});

describe('entities and ids', () => {
  it('keys live in the user partition; items round-trip, bad ones are refused', () => {
    expect(notifyKeys.room('bo', 'R1')).toEqual({ PK: 'USER#bo', SK: 'NOTIFY#ROOM#R1' });
    expect(notifyKeys.push('bo', 'https://x.example/a#b').SK).toMatch(/^PUSH#[A-Za-z0-9_-]{43}$/);
    expect(userPrefEntity.fromItem(userPrefEntity.toItem('bo', 'all', 'now'))).toBe('all');
    expect(() => userPrefEntity.fromItem({ notify: 'loud' })).toThrow();
    const sub = { userId: 'bo', endpoint: 'https://x.example/a', keys: { p256dh: 'p', auth: 'a' }, createdAt: 'now' };
    expect(pushSubscriptionEntity.fromItem(pushSubscriptionEntity.toItem(sub))).toEqual(sub);
    const roomItem = { notify: 'none', lastSeq: 4, pending: 2, sentAt: 't', prefV: 3 };
    expect(roomNotifyEntity.versioned(roomItem)).toEqual({ pref: { notify: 'none' }, v: 3 });
    expect(roomNotifyEntity.state(roomItem)).toEqual({ lastSeq: 4, pending: 2, sentAt: 't' });
    // Items written before versions were counted, and no item at all, are at version 0.
    expect(roomNotifyEntity.versioned({ mutedUntil: 'later' })).toEqual({ pref: { mutedUntil: 'later' }, v: 0 });
    expect(userPrefEntity.versioned(userPrefEntity.toItem('bo', 'all', 'now'))).toEqual({ notify: 'all', v: 0 });
    expect(userPrefEntity.versioned({ notify: 'none', prefV: 7 })).toEqual({ notify: 'none', v: 7 });
    expect(userPrefEntity.versioned(undefined)).toEqual({ v: 0 });
  });

  it('member items carry copies of the preferences, each part only when copied', () => {
    const m = { roomId: 'R1', userId: 'bo', displayName: 'Bo', role: 'member' as const, joinedAt: 'now' };
    const copied = member.toItem(m, { user: { notify: 'all', v: 2 }, room: { pref: { mutedUntil: 'later' }, v: 1 } });
    expect(copied).toMatchObject({ [LEVEL_COPY.userNotify]: 'all', [LEVEL_COPY.userVersion]: 2, [LEVEL_COPY.roomMutedUntil]: 'later', [LEVEL_COPY.roomVersion]: 1 });
    expect(member.fromItem(copied)).toEqual(m);
    expect(memberLevels.levelsOf(copied)).toEqual({ userId: 'bo', user: { notify: 'all' }, room: { mutedUntil: 'later' } });
    // Nothing chosen is copied too (version 0, no level): the default applies, nothing is read.
    expect(memberLevels.levelsOf(member.toItem(m, { user: { v: 0 }, room: { pref: {}, v: 0 } }))).toEqual({ userId: 'bo', user: {}, room: {} });
    // Written before copies, or with one part only: the missing part is absent (read from the preference items).
    expect(memberLevels.levelsOf(member.toItem(m))).toEqual({ userId: 'bo' });
    expect(memberLevels.levelsOf(member.toItem(m, { room: { pref: { notify: 'none' }, v: 4 } }))).toEqual({ userId: 'bo', room: { notify: 'none' } });
    expect(() => memberLevels.levelsOf({ ...copied, [LEVEL_COPY.userNotify]: 'loud' })).toThrow();
  });
  it('event ids are stable per source and differ across sources', () => {
    expect(stableId('rec-1', 'message.created')).toBe(stableId('rec-1', 'message.created'));
    expect(stableId('rec-1', 'message.created')).not.toBe(stableId('rec-2', 'message.created'));
    expect(stableId('notification', 'R', 1, 'a')).not.toBe(stableId('notification', 'R', 1, 'b'));
  });
});
