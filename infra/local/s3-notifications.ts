import type { S3Event } from 'aws-lambda';
import { FILES_PREFIX } from '#shared/domain/attachments.ts';
import { thumbnailFn } from '#infra/routes.ts';

/**
 * The bucket's event notification, as in AWS (`ObjectCreated:*` on `files/` → the thumbnail
 * function, invoked asynchronously): the embedded S3 store emits notification-shaped events, and
 * each matching one is handed, one record per invocation, to the same handler. The invoker runs
 * in this process, so a failure is logged and swallowed here, as Lambda would contain it; the
 * handler itself checks sizes before decoding, which is what keeps a huge image from exhausting
 * this process. Without the embedded store (`s3Endpoint` given) there are no notifications.
 */
export function s3Notifications(invoke: (fn: string, event: unknown) => Promise<unknown>) {
  const inFlight = new Set<Promise<unknown>>();
  return {
    onEvent(event: unknown): void {
      for (const record of (event as S3Event).Records ?? []) {
        if (!record.eventName?.startsWith('ObjectCreated:') || !record.s3?.object?.key?.startsWith(FILES_PREFIX)) continue;
        // Asynchronous, as S3 invokes: after the request that stored the object has been answered.
        const run: Promise<unknown> = new Promise((resolve) => setImmediate(resolve))
          .then(() => invoke(thumbnailFn, { Records: [record] } satisfies S3Event))
          .catch((err) => console.error(`[s3] ${thumbnailFn} failed for ${record.s3.object.key}`, err))
          .finally(() => inFlight.delete(run));
        inFlight.add(run);
      }
    },
    /** Waits for the invocations under way. */
    async stop(): Promise<void> {
      await Promise.all([...inFlight]);
    },
  };
}
