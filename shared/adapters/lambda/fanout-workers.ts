import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { FanOutChunk, FanOutWorkers } from '#shared/ports/fanout-workers.ts';

type LambdaSdk = typeof import('@aws-sdk/client-lambda');

/**
 * Fan-out workers as a Lambda function invoked synchronously (RequestResponse), one invocation per
 * chunk, all at once. Synchronous, so the caller knows when every post is made and the next event
 * of the room waits for it (order per connection); a worker's error fails the caller's stream
 * record, which Lambda then retries (delivery is at least once). The Lambda SDK is loaded on the
 * first split only: no other function pays for it at a cold start.
 */
export class LambdaFanOutWorkers implements FanOutWorkers {
  private sdk: Promise<{ sdk: LambdaSdk; client: LambdaClient }> | undefined;

  constructor(
    private readonly functionName: string,
    readonly chunkSize: number,
  ) {}

  run(chunks: FanOutChunk[]): Promise<{ sent: number; gone: number }[]> {
    return Promise.all(chunks.map((chunk) => this.invoke(chunk)));
  }

  destroy(): void {
    void this.sdk?.then(({ client }) => client.destroy(), () => undefined);
  }

  private async invoke(chunk: FanOutChunk): Promise<{ sent: number; gone: number }> {
    this.sdk ??= import('@aws-sdk/client-lambda').then((sdk) => ({ sdk, client: new sdk.LambdaClient({}) }));
    const { sdk, client } = await this.sdk;
    const out = await client.send(
      new sdk.InvokeCommand({ FunctionName: this.functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(chunk)) }),
    );
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) throw new Error(`Fan-out worker failed (${out.FunctionError}): ${text.slice(0, 500)}`);
    const result = JSON.parse(text) as { sent?: unknown; gone?: unknown };
    return { sent: Number(result.sent) || 0, gone: Number(result.gone) || 0 };
  }
}
