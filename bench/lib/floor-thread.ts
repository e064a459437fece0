/**
 * The fan-out floor's posts made in a worker thread (measureFloor starts it when the stream
 * fan-out runs in threads): the same client, concurrency and IAM check as the fan-out's posts, on
 * a thread of their own as the fan-out's are, so the floor and the fan-out share the cores alike.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createManagementClient } from '#functions/lib/management-client.ts';
import { ConnectionsApi } from '#shared/adapters/apigw/connections-api.ts';
import { POST_CONCURRENCY } from '#shared/domain/deliver.ts';
import { installIam, runAs, type IamSetup } from '#infra/local/iam.ts';
import { streamFn } from '#infra/routes.ts';

export interface FloorThreadData {
  callbackUrl: string;
  /** The runtime's IAM check, installed here as in the runtime's threads. */
  iam?: IamSetup;
}

/** One run: a frame's JSON, posted once to each connection. */
export interface FloorRequest {
  data: string;
  connectionIds: string[];
}

/** When the first post started (absolute: `timeOrigin + now`), or why posting failed. */
export interface FloorAnswer {
  startedAt: number;
  error?: string;
}

const data = workerData as FloorThreadData;
const port = parentPort!;
if (data.iam) installIam({ ...data.iam, onDenied: () => undefined });
const client = createManagementClient(data.callbackUrl);

port.on('message', (req: FloorRequest) => {
  void (async () => {
    const body = ConnectionsApi.body(req.data);
    const ids = req.connectionIds;
    const startedAt = performance.timeOrigin + performance.now();
    let next = 0;
    try {
      await runAs(streamFn, () =>
        Promise.all(
          Array.from({ length: Math.min(POST_CONCURRENCY, ids.length) }, async () => {
            while (next < ids.length) await client.post(ids[next++]!, body);
          }),
        ),
      );
      port.postMessage({ startedAt } satisfies FloorAnswer);
    } catch (err) {
      port.postMessage({ startedAt, error: String(err) } satisfies FloorAnswer);
    }
  })();
});
