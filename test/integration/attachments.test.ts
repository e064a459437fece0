import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { api, connect, createUser, eventually, type TestSocket, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { BUCKET } from '#shared/adapters/s3/bucket.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');

// Real file beginnings, padded: what a client would upload.
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300, 0x20)]);
/** A Windows executable ("MZ" header) dressed up as a PNG. */
const EXE = Buffer.concat([Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00]), Buffer.alloc(202, 0)]);

async function room(httpBase: string, owner: TestUser, members: TestUser[]): Promise<string> {
  const res = await api(httpBase, 'POST', '/rooms', { token: owner.token, body: { type: 'group', name: 'Files', memberIds: members.map((m) => m.userId) } });
  expect(res.status).toBe(201);
  return res.body.id;
}

function presign(user: TestUser, roomId: string, body: Record<string, unknown>, base = httpUrl) {
  return api(base, 'POST', `/rooms/${roomId}/attachments`, { token: user.token, body });
}

/** The PUT a client makes with the ticket: the file's bytes and the headers it was told to send. */
function put(ticket: { uploadUrl: string; uploadHeaders: Record<string, string> }, bytes: Buffer, headers: Record<string, string> = {}) {
  const { 'content-length': _length, ...rest } = ticket.uploadHeaders;
  // fetch sets content-length from the body itself, as a browser does.
  return fetch(ticket.uploadUrl, { method: 'PUT', headers: { ...rest, ...headers }, body: bytes });
}

async function upload(user: TestUser, roomId: string, fileName: string, contentType: string, bytes: Buffer, base = httpUrl): Promise<string> {
  const ticket = await presign(user, roomId, { fileName, contentType, size: bytes.length }, base);
  expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
  const res = await put(ticket.body, bytes);
  expect(res.status, await res.clone().text()).toBe(200);
  return ticket.body.attachmentId;
}

function send(user: TestUser, roomId: string, body: Record<string, unknown>, base = httpUrl) {
  return api(base, 'POST', `/rooms/${roomId}/messages`, { token: user.token, body });
}

let ann: TestUser, bo: TestUser, eve: TestUser;
let roomId: string;
let boSocket: TestSocket, eveSocket: TestSocket;
/** Behind the API, to see what the store holds. */
const s3 = new S3Client({ endpoint: inject('s3Endpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });

beforeAll(async () => {
  [ann, bo, eve] = (await Promise.all(['ann', 'bo', 'eve'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser, TestUser];
  roomId = await room(httpUrl, ann, [bo]);
  [boSocket, eveSocket] = await Promise.all([connect(wsUrl, bo), connect(wsUrl, eve)]);
});

afterAll(async () => {
  s3.destroy();
  await Promise.all([boSocket?.close(), eveSocket?.close()]);
});

describe('presign', () => {
  it('hands a member a presigned PUT bound to type and length, for a key under the room that the user does not choose', async () => {
    const res = await presign(ann, roomId, { fileName: '../../etc/passwd.png', contentType: 'image/png', size: 10 });
    expect(res.status).toBe(400); // a path is not a file name
    const ok = await presign(ann, roomId, { fileName: 'cat.png', contentType: 'image/png', size: PNG.length });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ attachmentId: expect.any(String), uploadUrl: expect.any(String), expiresAt: expect.any(String) });
    expect(ok.body.uploadHeaders).toEqual({ 'content-type': 'image/png', 'content-length': String(PNG.length), 'content-disposition': 'attachment; filename="cat.png"; filename*=UTF-8\'\'cat.png' });
    const url = new URL(ok.body.uploadUrl);
    expect(url.pathname).toBe(`/${BUCKET.localName}/uploads/${roomId}/${ok.body.attachmentId}`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(expect.arrayContaining(['content-disposition', 'content-length', 'content-type', 'host']));
    const expiresIn = Date.parse(ok.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);
  });

  it('refuses an oversize file (413) and a type not allowed (400), and a non-member (403)', async () => {
    const big = await presign(ann, roomId, { fileName: 'big.pdf', contentType: 'application/pdf', size: 10 * 1024 * 1024 + 1 });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const exactly = await presign(ann, roomId, { fileName: 'max.pdf', contentType: 'application/pdf', size: 10 * 1024 * 1024 });
    expect(exactly.status).toBe(201);
    for (const contentType of ['application/x-msdownload', 'text/html', 'image/svg+xml']) {
      const res = await presign(ann, roomId, { fileName: 'x', contentType, size: 10 });
      expect(res.status, contentType).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const outsider = await presign(eve, roomId, { fileName: 'cat.png', contentType: 'image/png', size: 10 });
    expect(outsider.status).toBe(403);
  });
});

describe('upload', () => {
  it('refuses a PUT whose content type or length differs from what was signed', async () => {
    const ticket = await presign(ann, roomId, { fileName: 'cat.png', contentType: 'image/png', size: PNG.length });
    const wrongType = await put(ticket.body, PNG, { 'content-type': 'application/octet-stream' });
    expect(wrongType.status).toBe(403);
    const renamed = await put(ticket.body, PNG, { 'content-disposition': 'attachment; filename="cat.exe"' });
    expect(renamed.status).toBe(403);
    const longer = await put(ticket.body, Buffer.concat([PNG, Buffer.from('!')]));
    expect(longer.status).toBe(403);
    const shorter = await put(ticket.body, PNG.subarray(1));
    expect(shorter.status).toBe(403);
    // Nothing was stored: the attachment cannot be sent.
    const sent = await send(ann, roomId, { attachmentIds: [ticket.body.attachmentId] });
    expect(sent.status).toBe(400);
    expect(sent.body.error.message).toMatch(/not uploaded/);
  });
});

describe('attach and download', () => {
  it('a good upload end to end: sent, received by members with a URL, downloaded under its name', async () => {
    const image = await upload(ann, roomId, 'Café photo.png', 'image/png', PNG);
    const sent = await send(ann, roomId, { content: 'look', attachmentIds: [image] });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.type).toBe('image');
    expect(sent.body.attachments).toEqual([{ id: image, name: 'Café photo.png', size: PNG.length, contentType: 'image/png', url: expect.any(String) }]);

    const download = await fetch(sent.body.attachments[0].url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="Caf_ photo.png"; filename*=UTF-8''Caf%C3%A9%20photo.png`);

    // A member receives it live, and reads it later, each time with a URL that works.
    const live = await boSocket.next((f) => f.type === 'message_new' && f.message.id === sent.body.id);
    expect(live.message.attachments[0]).toMatchObject({ id: image, name: 'Café photo.png' });
    expect((await fetch(live.message.attachments[0].url)).status).toBe(200);
    const history = await api(httpUrl, 'GET', `/rooms/${roomId}/messages`, { token: bo.token });
    const listed = history.body.items.find((m: any) => m.id === sent.body.id);
    expect(listed.attachments).toHaveLength(1);
    expect((await fetch(listed.attachments[0].url)).status).toBe(200);
    const one = await api(httpUrl, 'GET', `/rooms/${roomId}/messages/${sent.body.id}`, { token: bo.token });
    expect(one.body.attachments[0].url).toEqual(expect.any(String));

    // A file that is not an image makes a `file` message.
    const pdf = await upload(ann, roomId, 'report.pdf', 'application/pdf', PDF);
    const doc = await send(ann, roomId, { attachmentIds: [pdf] });
    expect(doc.status).toBe(201);
    expect(doc.body.type).toBe('file');
    expect(doc.body.content).toBe('');
  });

  it('a non-member gets no URL: no frame, no read', async () => {
    const image = await upload(ann, roomId, 'secret.png', 'image/png', PNG);
    const sent = await send(ann, roomId, { content: 'members only', attachmentIds: [image] });
    expect(sent.status).toBe(201);
    await boSocket.next((f) => f.type === 'message_new' && f.message.id === sent.body.id);
    // Eve's connection is open; the member's frame came, none for her.
    expect(eveSocket.frames.some((f) => JSON.stringify(f).includes(image))).toBe(false);
    const read = await api(httpUrl, 'GET', `/rooms/${roomId}/messages/${sent.body.id}`, { token: eve.token });
    expect(read.status).toBe(403);
    expect(JSON.stringify(read.body)).not.toContain(image);
    const list = await api(httpUrl, 'GET', `/rooms/${roomId}/messages`, { token: eve.token });
    expect(list.status).toBe(403);
  });

  it('refuses a file whose first bytes lie about its type, and removes it', async () => {
    const fake = await upload(ann, roomId, 'innocent.png', 'image/png', EXE);
    const sent = await send(ann, roomId, { content: 'totally a picture', attachmentIds: [fake] });
    expect(sent.status).toBe(400);
    expect(sent.body.error.code).toBe('validation_failed');
    expect(sent.body.error.message).toMatch(/not image\/png/);
    // The upload is gone: it cannot be tried again, and both of its objects are deleted.
    const again = await send(ann, roomId, { attachmentIds: [fake] });
    expect(again.status).toBe(400);
    for (const key of [`uploads/${roomId}/${fake}`, `files/${roomId}/${fake}`]) {
      await eventually(async () => {
        await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET.localName, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      }, 10_000, 100);
    }

    const binaryText = await upload(ann, roomId, 'notes.txt', 'text/plain', EXE);
    expect((await send(ann, roomId, { attachmentIds: [binaryText] })).status).toBe(400);
    const text = await upload(ann, roomId, 'notes.txt', 'text/plain', Buffer.from('Grüße\nline two\n'));
    const ok = await send(ann, roomId, { attachmentIds: [text] });
    expect(ok.status).toBe(201);
    expect(ok.body.type).toBe('file');
  });

  it("refuses another user's upload, another room's upload, and an upload used twice", async () => {
    const bos = await upload(bo, roomId, 'bo.png', 'image/png', PNG);
    const stolen = await send(ann, roomId, { content: 'mine now', attachmentIds: [bos] });
    expect(stolen.status).toBe(403);

    const otherRoom = await room(httpUrl, ann, [bo]);
    const elsewhere = await upload(ann, otherRoom, 'there.png', 'image/png', PNG);
    const moved = await send(ann, roomId, { content: 'wrong room', attachmentIds: [elsewhere] });
    expect(moved.status).toBe(400);
    expect(moved.body.error.message).toMatch(/no such upload/i);

    const first = await send(bo, roomId, { content: 'mine', attachmentIds: [bos] });
    expect(first.status).toBe(201);
    const twice = await send(bo, roomId, { content: 'again', attachmentIds: [bos] });
    expect(twice.status).toBe(409);
    const doubled = await upload(bo, roomId, 'twice.png', 'image/png', PNG);
    expect((await send(bo, roomId, { attachmentIds: [doubled, doubled] })).status).toBe(400);
    // Refused sends stored no message.
    const history = await api(httpUrl, 'GET', `/rooms/${roomId}/messages?limit=100`, { token: bo.token });
    expect(history.body.items.filter((m: any) => ['mine now', 'wrong room', 'again'].includes(m.content))).toEqual([]);
  });

  it('over WebSocket too: message_send with attachmentIds', async () => {
    const image = await upload(bo, roomId, 'ws.png', 'image/png', PNG);
    const ack = await boSocket.request({ type: 'message_send', roomId, content: 'via ws', attachmentIds: [image] });
    expect(ack.type, JSON.stringify(ack)).toBe('ack');
    expect(ack.result).toMatchObject({ type: 'image', attachments: [{ id: image, name: 'ws.png', url: expect.any(String) }] });
    expect((await fetch(ack.result.attachments[0].url)).status).toBe(200);
    const refused = await boSocket.request({ type: 'message_send', roomId, content: 'again', attachmentIds: [image] });
    expect(refused).toMatchObject({ type: 'error', code: 'conflict' });
  });

  it('deleting a message deletes its files', async () => {
    const image = await upload(ann, roomId, 'gone.png', 'image/png', PNG);
    const sent = await send(ann, roomId, { content: 'soon gone', attachmentIds: [image] });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const url = sent.body.attachments[0].url as string;
    expect((await fetch(url)).status).toBe(200);
    const deleted = await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${sent.body.id}`, { token: ann.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body.attachments).toEqual([]);
    await eventually(async () => expect((await fetch(url)).status).toBe(404), 10_000);
    const read = await api(httpUrl, 'GET', `/rooms/${roomId}/messages/${sent.body.id}`, { token: ann.token });
    expect(read.body.attachments).toEqual([]);
  });
});

describe('every route that answers with a message', () => {
  // Each route is its own function with its own composition: each must sign its files' URLs.
  it('shows its files with URLs that work, over HTTP and WebSocket', async () => {
    const image = await upload(ann, roomId, 'every route.png', 'image/png', PNG);
    const since = new Date(Date.now() - 1000).toISOString();
    const sent = await send(ann, roomId, { content: 'zebracrossing everywhere', attachmentIds: [image] });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const id = sent.body.id as string;
    const annSocket = await connect(wsUrl, ann);
    const shown: [string, any][] = [];
    try {
      const path = `/rooms/${roomId}/messages/${id}`;
      const http = async (method: string, route: string, body?: unknown) => {
        const res = await api(httpUrl, method, route, { token: ann.token, ...(body !== undefined && { body }) });
        expect(res.status, `${method} ${route}: ${JSON.stringify(res.body)}`).toBe(200);
        return res.body;
      };
      const ws = async (frame: Record<string, unknown>) => {
        const ack = await annSocket.request(frame);
        expect(ack.type, JSON.stringify(ack)).toBe('ack');
        return ack.result;
      };
      shown.push(['PATCH message', await http('PATCH', path, { content: 'zebracrossing edited' })]);
      shown.push(['message_edit', await ws({ type: 'message_edit', roomId, messageId: id, content: 'zebracrossing again' })]);
      shown.push(['PUT reaction', await http('PUT', `${path}/reactions/${encodeURIComponent('👍')}`)]);
      shown.push(['DELETE reaction', await http('DELETE', `${path}/reactions/${encodeURIComponent('👍')}`)]);
      shown.push(['reaction_add', await ws({ type: 'reaction_add', roomId, messageId: id, emoji: '🎉' })]);
      shown.push(['reaction_remove', await ws({ type: 'reaction_remove', roomId, messageId: id, emoji: '🎉' })]);
      const changes = await http('GET', `/rooms/${roomId}/changes?since=${encodeURIComponent(since)}`);
      shown.push(['GET changes', changes.items.find((m: any) => m.id === id)]);
      // The room list reads eventually consistently: it may lag a moment.
      let last: any;
      await eventually(async () => {
        last = (await http('GET', '/rooms')).items.find((r: any) => r.room.id === roomId)?.lastMessage;
        expect(last?.id).toBe(id);
      }, 5_000);
      shown.push(['GET /rooms lastMessage', last]);
      const found = await http('GET', `/search?q=zebracrossing&roomId=${roomId}`);
      shown.push(['GET search', found.items.find((m: any) => m.id === id)]);
      for (const [route, message] of shown) {
        expect(message?.attachments, route).toEqual([expect.objectContaining({ id: image, name: 'every route.png', url: expect.any(String) })]);
      }
      expect((await fetch(shown.at(-1)![1].attachments[0].url)).status).toBe(200);

      // And deleting over WebSocket removes them as over HTTP.
      const url = sent.body.attachments[0].url as string;
      const tombstone = await ws({ type: 'message_delete', roomId, messageId: id });
      expect(tombstone.attachments).toEqual([]);
      await eventually(async () => expect((await fetch(url)).status).toBe(404), 10_000);
    } finally {
      await annSocket.close();
    }
  });
});

describe('expiry (a runtime with short windows)', () => {
  let rt: Runtime;
  let rtS3: S3Client;
  beforeAll(async () => {
    rt = await startRuntime({ PARLEY_ATTACHMENT_UPLOAD_URL_SECONDS: '2', PARLEY_ATTACHMENT_UNATTACHED_SECONDS: '3', PARLEY_ATTACHMENT_MAX_BYTES: '1000' });
    rtS3 = new S3Client({ endpoint: rt.s3Endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
  }, 120_000);
  afterAll(async () => {
    rtS3?.destroy();
    await rt?.stop();
  });

  it('refuses an expired upload URL, deletes an upload no message claimed, and applies the configured size limit', async () => {
    const [a, b] = (await Promise.all(['ann', 'bo'].map((n) => createUser(rt.httpUrl, n)))) as [TestUser, TestUser];
    const r = await room(rt.httpUrl, a, [b]);
    expect((await presign(a, r, { fileName: 'big.pdf', contentType: 'application/pdf', size: 1001 }, rt.httpUrl)).status).toBe(413);

    const late = await presign(a, r, { fileName: 'late.png', contentType: 'image/png', size: PNG.length }, rt.httpUrl);
    const unclaimed = await upload(a, r, 'never sent.png', 'image/png', PNG, rt.httpUrl);
    const key = `uploads/${r}/${unclaimed}`;
    expect((await rtS3.send(new HeadObjectCommand({ Bucket: BUCKET.localName, Key: key }))).ContentLength).toBe(PNG.length);

    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await put(late.body, PNG)).status).toBe(403);

    // The pending record's TTL runs out, the sweeper deletes it, the clean-up consumer deletes the object.
    await eventually(async () => {
      await expect(rtS3.send(new HeadObjectCommand({ Bucket: BUCKET.localName, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    }, 15_000, 250);
    const sent = await send(a, r, { content: 'too late', attachmentIds: [unclaimed] }, rt.httpUrl);
    expect(sent.status).toBe(400);
  }, 60_000);
});
