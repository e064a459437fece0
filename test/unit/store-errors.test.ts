import { describe, expect, it } from 'vitest';
import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import { AppError, retryAfterOf, toPublicError } from '#shared/errors.ts';
import { STORE_RETRY, StoreFault, cancellationCodes, classifyStoreError, withStoreRetries } from '#shared/adapters/dynamodb/store-errors.ts';

// Errors as the SDK builds them from DynamoDB's responses (service exception classes, $metadata).
const meta = { httpStatusCode: 400, requestId: 'R1', attempts: 1, totalRetryDelay: 0 };
const cancelled = (codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: meta,
    CancellationReasons: codes.map((Code) => (Code === 'None' ? { Code } : { Code, Message: `${Code} happened` })),
  });
/** DynamoDB's ValidationException has no class of its own in the SDK: a ServiceException named so. */
const validation = () =>
  Object.assign(new Error('One or more parameter values were invalid: Item size has exceeded the maximum allowed size'), {
    name: 'ValidationException',
    $fault: 'client',
    $metadata: meta,
  });
const throttling = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException', $fault: 'client', $metadata: meta });

describe('classifyStoreError', () => {
  it('treats failed conditions, alone or in a cancelled transaction, as business outcomes', () => {
    expect(classifyStoreError(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: meta }))).toBe('condition');
    expect(classifyStoreError(cancelled(['ConditionalCheckFailed', 'None']))).toBe('condition');
    expect(classifyStoreError(cancelled(['None', 'ConditionalCheckFailed']))).toBe('condition');
  });

  it('treats throttling and conflicting transactions as a busy store', () => {
    expect(classifyStoreError(new ProvisionedThroughputExceededException({ message: 'x', $metadata: meta }))).toBe('busy');
    expect(classifyStoreError(new RequestLimitExceeded({ message: 'x', $metadata: meta }))).toBe('busy');
    expect(classifyStoreError(new TransactionConflictException({ message: 'x', $metadata: meta }))).toBe('busy');
    expect(classifyStoreError(throttling())).toBe('busy');
    expect(classifyStoreError(cancelled(['None', 'TransactionConflict']))).toBe('busy');
    expect(classifyStoreError(cancelled(['ConditionalCheckFailed', 'TransactionConflict']))).toBe('busy');
    expect(classifyStoreError(cancelled(['ThrottlingError', 'None']))).toBe('busy');
  });

  it('treats everything else as a fault, never as a business outcome', () => {
    expect(classifyStoreError(validation())).toBe('fault');
    expect(classifyStoreError(cancelled(['ValidationError', 'None']))).toBe('fault');
    expect(classifyStoreError(cancelled(['ItemCollectionSizeLimitExceeded']))).toBe('fault');
    expect(classifyStoreError(cancelled(['None', 'None']))).toBe('fault');
    expect(classifyStoreError(new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: meta }))).toBe('fault');
    expect(classifyStoreError(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: meta }))).toBe('fault');
    expect(classifyStoreError(new InternalServerError({ message: 'x', $metadata: meta }))).toBe('fault');
    expect(classifyStoreError(new TypeError('socket hang up'))).toBe('fault');
  });

  it('reads cancellation codes from the parsed reasons, or from the message when they are missing', () => {
    expect(cancellationCodes(cancelled(['None', 'ConditionalCheckFailed']))).toEqual(['None', 'ConditionalCheckFailed']);
    const bare = new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, TransactionConflict]',
      $metadata: meta,
    });
    expect(cancellationCodes(bare)).toEqual(['ConditionalCheckFailed', 'TransactionConflict']);
    expect(classifyStoreError(bare)).toBe('busy');
  });
});

describe('withStoreRetries', () => {
  const noSleep = async () => undefined;

  it('retries a busy store and returns the call that got through', async () => {
    let calls = 0;
    const out = await withStoreRetries('op', async () => {
      calls++;
      if (calls < STORE_RETRY.attempts) throw cancelled(['TransactionConflict', 'None']);
      return 'done';
    }, noSleep);
    expect(out).toBe('done');
    expect(calls).toBe(STORE_RETRY.attempts);
  });

  it('answers unavailable with retryAfter once the attempts are spent, without DynamoDB text', async () => {
    let calls = 0;
    const waits: number[] = [];
    const err = await withStoreRetries('op', async () => {
      calls++;
      throw new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded', $metadata: meta });
    }, async (ms) => waits.push(ms)).catch((e: unknown) => e);
    expect(calls).toBe(STORE_RETRY.attempts);
    expect(waits).toHaveLength(STORE_RETRY.attempts - 1);
    // Full jitter under a ceiling that doubles: 25, 50, 100 ms.
    waits.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(STORE_RETRY.baseMs * 2 ** i));
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(503);
    expect(retryAfterOf(err)).toBe(STORE_RETRY.retryAfterSeconds);
    expect(JSON.stringify(toPublicError(err))).not.toMatch(/throughput|Provisioned|DynamoDB/i);
  });

  it('does not retry a fault, and hides it as an internal error', async () => {
    let calls = 0;
    const err = await withStoreRetries('putMessage', async () => {
      calls++;
      throw validation();
    }, noSleep).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(StoreFault);
    expect(toPublicError(err)).toEqual({ code: 'internal', message: 'Internal error' });
    // A cancellation that is not the conditions' doing never turns into a business answer.
    const cancelledFault = await withStoreRetries('createRoom', async () => {
      throw cancelled(['ValidationError', 'None']);
    }, noSleep).catch((e: unknown) => e);
    expect(cancelledFault).toBeInstanceOf(StoreFault);
    expect((cancelledFault as Error).name).not.toBe('TransactionCanceledException');
  });

  it('hands a business outcome back untouched, at once', async () => {
    let calls = 0;
    const original = cancelled(['ConditionalCheckFailed', 'None']);
    const err = await withStoreRetries('addMember', async () => {
      calls++;
      throw original;
    }, noSleep).catch((e: unknown) => e);
    expect(err).toBe(original);
    expect(calls).toBe(1);
  });
});
