import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { GifWriter } from 'omggif';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { api, connect, createUser, eventually, type TestUser } from '#test/support/clients.ts';
import { animateWebp, encodeWebp } from '#test/support/webp.ts';
import { exifTiff, jpegWithExif } from '#test/support/exif.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { BUCKET } from '#shared/adapters/s3/bucket.ts';
import { thumbnailKey } from '#shared/domain/attachments.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
const s3 = new S3Client({ endpoint: inject('s3Endpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });

const W = 1000;
const H = 500;
/** A gradient: something a box filter must average, not just copy. */
function rgba(w = W, h = H): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([(x * 255) / w, (y * 255) / h, 128, 255], (y * w + x) * 4);
  return data;
}
function png(w = W, h = H): Buffer {
  const p = new pngjs.PNG({ width: w, height: h });
  p.data = rgba(w, h);
  return pngjs.PNG.sync.write(p);
}
const jpg = () => Buffer.from(jpeg.encode({ width: W, height: H, data: rgba() }, 85).data);
function gif(): Buffer {
  const buf = Buffer.alloc(W * H * 2 + 10_000);
  const palette = Array.from({ length: 256 }, (_, i) => (i << 16) | ((255 - i) << 8) | 0x40);
  const w = new GifWriter(buf, W, H, { palette });
  const indexed = Array.from({ length: W * H }, (_, i) => (i % W) % 256);
  w.addFrame(0, 0, W, H, indexed);
  return buf.subarray(0, w.end());
}
/** A real PNG signature and IHDR claiming 100 000 × 100 000 pixels, followed by nothing useful. */
function hugePng(): Buffer {
  const b = png(4, 4);
  b.writeUInt32BE(100_000, 16);
  b.writeUInt32BE(100_000, 20);
  return b;
}
/** Correct header, then the data cut off. */
const truncatedPng = () => png().subarray(0, 2000);
const webp = async () => Buffer.from(await encodeWebp({ width: W, height: H, data: rgba() }, { quality: 80 }));
/** Two frames: red with a transparent left half, then blue. */
async function animatedWebp(): Promise<Buffer> {
  const red = Buffer.alloc(120 * 90 * 4);
  for (let i = 0; i < 120 * 90; i++) red.set([220, 30, 30, i % 120 < 60 ? 0 : 255], i * 4);
  const blue = Buffer.alloc(120 * 90 * 4);
  for (let i = 0; i < 120 * 90; i++) blue.set([30, 30, 220, 255], i * 4);
  return Buffer.from(animateWebp(120, 90, [await encodeWebp({ width: 120, height: 90, data: red }), await encodeWebp({ width: 120, height: 90, data: blue }, { lossless: true })]));
}
/** A WebP signature and lossy chunk header, then no bitstream: passes the content check, fails the decoder. */
const FAKE_WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x24, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(200, 1)]);

let ann: TestUser;
let roomId: string;

async function sendFile(fileName: string, contentType: string, bytes: Buffer, declared?: { width: number; height: number }): Promise<{ messageId: string; attachmentId: string; sent: any }> {
  const ticket = await api(httpUrl, 'POST', `/rooms/${roomId}/attachments`, { token: ann.token, body: { fileName, contentType, size: bytes.length, ...declared } });
  expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
  const { 'content-length': _l, ...headers } = ticket.body.uploadHeaders;
  expect((await fetch(ticket.body.uploadUrl, { method: 'PUT', headers, body: bytes })).status).toBe(200);
  const sent = await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: fileName, attachmentIds: [ticket.body.attachmentId] } });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  return { messageId: sent.body.id, attachmentId: ticket.body.attachmentId, sent: sent.body };
}

const read = async (messageId: string) => (await api(httpUrl, 'GET', `/rooms/${roomId}/messages/${messageId}`, { token: ann.token })).body.attachments[0];

/** The thumbnail of the message's first attachment, once made, decoded. */
async function thumbnailOf(messageId: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const att = await eventually(async () => {
    const a = await read(messageId);
    if (!a.thumbnailUrl) throw new Error('no thumbnail yet');
    return a;
  }, 15_000, 100);
  const res = await fetch(att.thumbnailUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/jpeg');
  return jpeg.decode(new Uint8Array(await res.arrayBuffer()), { useTArray: true });
}

beforeAll(async () => {
  ann = await createUser(httpUrl, 'ann');
  const res = await api(httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'group', name: 'Pictures', memberIds: [] } });
  roomId = res.body.id;
});
afterAll(() => {
  s3.destroy();
  db.destroy();
});

describe('thumbnails', () => {
  it.each([
    ['png', 'image/png', png, [320, 160]],
    ['jpeg', 'image/jpeg', jpg, [320, 160]],
    ['gif', 'image/gif', gif, [320, 160]],
    ['webp', 'image/webp', webp, [320, 160]],
  ] as const)('makes a JPEG thumbnail of a %s, at most 320 px on the long side, with the aspect kept', async (ext, type, make, size) => {
    const { messageId } = await sendFile(`wide.${ext}`, type, await make());
    const thumb = await thumbnailOf(messageId);
    expect([thumb.width, thumb.height]).toEqual(size);
    // The gradient survived: left is darker in red than right.
    expect(thumb.data[0]!).toBeLessThan(thumb.data[(thumb.width - 1) * 4]!);
  });

  it('turns a photo upright as its EXIF orientation says', async () => {
    // Stored landscape (1000 × 500), tagged "rotate 90° clockwise to display": a portrait photo.
    const { messageId } = await sendFile('portrait.jpg', 'image/jpeg', Buffer.from(jpegWithExif(jpg(), exifTiff(6))));
    const thumb = await thumbnailOf(messageId);
    expect([thumb.width, thumb.height]).toEqual([160, 320]);
    // The stored image's left edge (dark red) is now its top edge.
    expect(thumb.data[(thumb.width - 1) * 4]!).toBeLessThan(thumb.data[((thumb.height - 1) * thumb.width) * 4]!);
  });

  it("makes an animated WebP's thumbnail of its first frame, never enlarged", async () => {
    const { messageId } = await sendFile('wave.webp', 'image/webp', await animatedWebp());
    const thumb = await thumbnailOf(messageId);
    expect([thumb.width, thumb.height]).toEqual([120, 90]);
    // Frame 1: transparent left half (white in a JPEG), red right half. Frame 2 is blue.
    const px = (x: number) => [...thumb.data.subarray((45 * thumb.width + x) * 4, (45 * thumb.width + x) * 4 + 3)];
    expect(px(10).every((c) => c > 240)).toBe(true);
    const [r, g, b] = px(110);
    expect([r! > 180, g! < 80, b! < 80]).toEqual([true, true, true]);
  });

  it('makes none of a hostile image (huge dimensions, truncated data, a WebP with no bitstream) and keeps serving', async () => {
    const huge = await sendFile('huge.png', 'image/png', hugePng());
    const cut = await sendFile('cut.png', 'image/png', truncatedPng());
    const fake = await sendFile('pic.webp', 'image/webp', FAKE_WEBP);
    // A later good image gets its thumbnail: the earlier ones were handled (in order) and the runtime is up.
    const { messageId } = await sendFile('after.png', 'image/png', png(64, 32));
    await eventually(async () => {
      if (!(await read(messageId)).thumbnailUrl) throw new Error('no thumbnail yet');
    }, 15_000, 100);
    for (const m of [huge, cut, fake]) {
      const a = await read(m.messageId);
      expect(a.url).toEqual(expect.any(String));
      expect(a.thumbnailUrl).toBeUndefined();
      await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET.localName, Key: thumbnailKey(roomId, m.attachmentId) }))).rejects.toMatchObject({ name: 'NotFound' });
    }
    expect((await api(httpUrl, 'GET', `/rooms/${roomId}/messages`, { token: ann.token })).status).toBe(200);
  });

  it('deletes the thumbnail with its message', async () => {
    const { messageId, attachmentId } = await sendFile('gone.png', 'image/png', png(100, 300));
    const key = thumbnailKey(roomId, attachmentId);
    await eventually(() => s3.send(new HeadObjectCommand({ Bucket: BUCKET.localName, Key: key })), 15_000, 100);
    const del = await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${messageId}`, { token: ann.token });
    expect(del.status).toBeLessThan(300);
    await eventually(async () => {
      const gone = await s3.send(new HeadObjectCommand({ Bucket: BUCKET.localName, Key: key })).then(() => false, (e: { name?: string }) => e.name === 'NotFound');
      if (!gone) throw new Error('thumbnail still there');
    }, 15_000, 100);
  });
});

describe("an image's size", () => {
  /** The upload slots stored in the room's partition. */
  const slots = async () => (await db.send(new QueryCommand({
    TableName: TABLE.defaultName,
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :att)',
    ExpressionAttributeValues: { ':pk': `ROOM#${roomId}`, ':att': 'ATT#' },
  }))).Items ?? [];

  it('reaches members in message_new as declared, then as measured (upright) once the thumbnail exists', async () => {
    const bo = await createUser(httpUrl, 'bo');
    expect((await api(httpUrl, 'POST', `/rooms/${roomId}/members`, { token: ann.token, body: { userId: bo.userId } })).status).toBe(201);
    const socket = await connect(wsUrl, bo);
    const sizeOf = (a: { width?: number; height?: number }) => [a.width, a.height];
    try {
      // The thumbnail function cannot decode this one (its data is cut off): whenever message_new
      // goes out, only the declared size exists, and it stays the size members see.
      const cut = await sendFile('cut.png', 'image/png', truncatedPng(), { width: 1000, height: 500 });
      expect(sizeOf(cut.sent.attachments[0])).toEqual([1000, 500]);
      const cutLive = await socket.next((f) => f.type === 'message_new' && f.message.id === cut.messageId);
      expect(cutLive.message.attachments[0]).toMatchObject({ name: 'cut.png', width: 1000, height: 500 });

      // Stored 1000 × 500 and tagged orientation 6: displayed 500 × 1000. The sender declares what
      // the stored header says, as a client that ignores EXIF would; the measured size replaces it.
      const tall = await sendFile('tall.jpg', 'image/jpeg', Buffer.from(jpegWithExif(jpg(), exifTiff(6))), { width: 1000, height: 500 });
      const tallLive = await socket.next((f) => f.type === 'message_new' && f.message.id === tall.messageId);
      // The thumbnail may win the race with the fan-out; the size always goes with it.
      for (const a of [tall.sent.attachments[0], tallLive.message.attachments[0]]) expect(sizeOf(a)).toEqual(a.thumbnailUrl ? [500, 1000] : [1000, 500]);
      await thumbnailOf(tall.messageId);
      const read = await api(httpUrl, 'GET', `/rooms/${roomId}/messages/${tall.messageId}`, { token: bo.token });
      expect(read.body.attachments[0]).toMatchObject({ width: 500, height: 1000, thumbnailUrl: expect.any(String) });
      const listed = await api(httpUrl, 'GET', `/rooms/${roomId}/messages?limit=5`, { token: bo.token });
      const byId = new Map(listed.body.items.map((m: any) => [m.id, m.attachments[0]]));
      expect(byId.get(tall.messageId)).toMatchObject({ width: 500, height: 1000 });
      // Undecodable: no measurement ever comes, the declared size stays.
      expect(byId.get(cut.messageId)).toMatchObject({ width: 1000, height: 500 });
      expect(byId.get(cut.messageId)).not.toHaveProperty('thumbnailUrl');
    } finally {
      await socket.close();
    }
  });

  it('is measured for an image sent without one, and never shown before its thumbnail exists', async () => {
    const { messageId, sent } = await sendFile('plain.png', 'image/png', png(300, 200));
    expect('width' in sent.attachments[0]).toBe('thumbnailUrl' in sent.attachments[0]);
    await thumbnailOf(messageId);
    expect(await read(messageId)).toMatchObject({ width: 300, height: 200 });
  });

  it('is refused when half given, out of bounds or on a file that is not an image, and no slot is stored', async () => {
    const before = await slots();
    const cases: [Record<string, unknown>, string][] = [
      [{ contentType: 'image/png', width: 640 }, 'height: give width and height together, or neither'],
      [{ contentType: 'image/png', width: 0, height: 480 }, 'width: Too small'],
      [{ contentType: 'image/png', width: 640, height: 65_536 }, 'height: Too big'],
      [{ contentType: 'image/png', width: 64.5, height: 48 }, 'width: Invalid input'],
      [{ contentType: 'application/pdf', width: 640, height: 480 }, 'width: only an image has a width and height'],
    ];
    for (const [extra, message] of cases) {
      const res = await api(httpUrl, 'POST', `/rooms/${roomId}/attachments`, { token: ann.token, body: { fileName: 'x', size: 10, ...extra } });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain(message);
    }
    expect((await slots()).map((i) => i.SK).sort()).toEqual(before.map((i) => i.SK).sort());
  });
});
