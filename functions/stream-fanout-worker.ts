import { deliverChunk } from '#shared/domain/deliver.ts';
import { fanOutChunkSchema } from '#shared/schemas/fanout-chunk.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { getDeps, withConnections, withBroadcaster } from './lib/deps.ts';

/**
 * Posts one share of a large room's fan-out, invoked by the stream fan-out (RequestResponse) with
 * one chunk of connections each; its answer (`{sent, gone}`) tells the fan-out it is done.
 */
export const handler = async (event: unknown) => deliverChunk(getDeps(withConnections, withBroadcaster), parseOrThrow(fanOutChunkSchema, event, 'fan-out chunk'));
