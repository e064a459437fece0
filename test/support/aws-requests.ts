/** The part of an SDK request a test alters: what the signer then signs. */
export interface SdkRequest {
  headers: Record<string, string>;
  body?: unknown;
}

interface WithMiddleware {
  middlewareStack: { add(middleware: (next: (args: any) => Promise<any>) => (args: any) => Promise<any>, options: { step: 'build'; priority: 'high' }): void };
}

/**
 * Makes `client` alter each request after the SDK built it and before it is signed, so the
 * endpoint sees a validly signed request the SDK itself would never send (another operation, a
 * body that is not JSON).
 */
export function alterBeforeSigning<C extends WithMiddleware>(client: C, change: (request: SdkRequest) => void): C {
  client.middlewareStack.add(
    (next) => async (args) => {
      change(args.request as SdkRequest);
      return next(args);
    },
    // Before the content-length header is set from the body.
    { step: 'build', priority: 'high' },
  );
  return client;
}
