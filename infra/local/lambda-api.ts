import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Invoke } from './lambda.ts';
import { verifySigV4, type Credential } from './sigv4.ts';

export interface LocalLambdaApi {
  endpoint: string;
  /** Waits for asynchronous (`Event`) invocations still running, then closes the port. */
  stop(): Promise<void>;
}

/** Lambda refuses a synchronous payload over 6 MB (256 KB for `Event`). */
const MAX_PAYLOAD = { RequestResponse: 6 * 1024 * 1024, Event: 256 * 1024 } as const;
/** Lambda retries a failed asynchronous invocation twice. */
const EVENT_ATTEMPTS = 3;

/**
 * The part of Lambda's API the functions call: `Invoke` (`POST /2015-03-31/functions/{name}/invocations`)
 * of the local functions, named `parley-<file>` or by ARN, SigV4-checked as AWS does. The caller
 * uses the SDK's own client (`AWS_ENDPOINT_URL_LAMBDA`), so its call passes the local IAM check
 * (`lambda:InvokeFunction`), and the invoked function runs under its own grants. As in AWS:
 * `RequestResponse` answers 200 with the result, or with `X-Amz-Function-Error: Unhandled` and the
 * error when the handler throws; `Event` answers 202 and runs it later, retried twice on failure;
 * `DryRun` answers 204; an unknown function is 404 `ResourceNotFoundException`; a payload over the
 * limit 413 `RequestTooLargeException`.
 */
export async function startLambdaApi(opts: {
  functions: readonly string[];
  invoke: Invoke;
  credentials: readonly Credential[];
  region: string;
  account: string;
  logger?: Pick<Console, 'error'>;
}): Promise<LocalLambdaApi> {
  const logger = opts.logger ?? console;
  const known = new Set(opts.functions);
  const running = new Set<Promise<void>>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answer(req, Buffer.concat(chunks)).then(
        ({ status, headers = {}, body }) => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers });
          res.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
        },
        (err: unknown) => {
          logger.error('[lambda] request failed', err);
          res.writeHead(500, { 'x-amzn-errortype': 'ServiceException' });
          res.end(JSON.stringify({ message: 'Internal error' }));
        },
      );
    });
  });

  const fault = (status: number, type: string, message: string) => ({ status, headers: { 'x-amzn-errortype': type }, body: { Type: 'User', message } });

  /** `parley-<fn>`, or its ARN (a version or `$LATEST` qualifier allowed). */
  function functionOf(name: string): string | undefined {
    const arn = /^arn:aws:lambda:([^:]+):(\d{12}):function:([^:]+)(?::(\$LATEST|\d+))?$/.exec(name);
    if (arn && (arn[1] !== opts.region || arn[2] !== opts.account)) return undefined;
    const fn = (arn ? arn[3]! : name).replace(/^parley-/, '');
    return (arn ? arn[3]! : name).startsWith('parley-') && known.has(fn) ? fn : undefined;
  }

  async function answer(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers?: Record<string, string>; body?: unknown }> {
    const verdict = await verifySigV4(req, body, { service: 'lambda', credentials: opts.credentials });
    if (verdict === 'unsigned') return fault(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (verdict === 'unknown-key') return fault(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (verdict === 'invalid') return fault(403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const route = /^\/2015-03-31\/functions\/(.+)\/invocations$/.exec(path);
    if (req.method !== 'POST' || !route) return fault(404, 'UnknownOperationException', 'The operation is not supported by the local Lambda API.');
    const name = route[1]!;
    const fn = functionOf(name);
    if (!fn) return fault(404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${opts.region}:${opts.account}:function:${name}`);
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (type === 'DryRun') return { status: 204 };
    if (type !== 'RequestResponse' && type !== 'Event') return fault(400, 'InvalidParameterValueException', `Invalid invocation type: ${type}`);
    if (body.length > MAX_PAYLOAD[type]) return fault(413, 'RequestTooLargeException', 'Request must be smaller than the invocation payload limit.');
    let event: unknown;
    try {
      event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      return fault(400, 'InvalidRequestContentException', 'Could not parse request body into json.');
    }
    if (type === 'Event') {
      const task = runLater(fn, event);
      running.add(task);
      void task.then(() => running.delete(task));
      return { status: 202 };
    }
    try {
      const result = await opts.invoke(fn, event);
      return { status: 200, headers: { 'x-amz-executed-version': '$LATEST' }, body: result === undefined ? 'null' : JSON.stringify(result) };
    } catch (err) {
      const e = err as Error;
      return {
        status: 200,
        headers: { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
        body: { errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(err), trace: [] },
      };
    }
  }

  async function runLater(fn: string, event: unknown): Promise<void> {
    for (let attempt = 1; attempt <= EVENT_ATTEMPTS; attempt++) {
      try {
        await opts.invoke(fn, structuredClone(event));
        return;
      } catch (err) {
        if (attempt === EVENT_ATTEMPTS) logger.error(`[lambda] parley-${fn}: asynchronous invocation failed ${EVENT_ATTEMPTS} times; dropped`, err);
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      while (running.size > 0) await Promise.all(running);
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
