import type { AttachmentSettings } from '#shared/ports/attachments.ts';
import type { CursorKey, Settings } from '#shared/ports/runtime.ts';
import { isKnownContentType } from '#shared/domain/attachments.ts';
import { RATE_DEFAULTS } from '#shared/domain/rate-limit.ts';
import { ENV, intSetting, requireEnv, type EnvName } from '#shared/env.ts';
import { ATTACHMENT_LIMITS, KNOWN_CONTENT_TYPES, MESSAGE_LIMITS, SEARCH_LIMITS } from '#shared/schemas/limits.ts';

/**
 * Connections one fan-out posts to by itself; a larger room is split across workers in chunks of
 * this many (at about 1 ms a post with 64 in flight, one chunk is posted in well under a second).
 */
export const FANOUT_CHUNK = 500;

/** What the composition root needs to build the ports: names, endpoints and the operator's limits. */
export interface DepsConfig {
  tableName: string;
  /** Where frames are posted: API Gateway's `@connections` endpoint (the emulator's locally). */
  wsCallbackUrl: string;
  settings: Settings;
  /** The fan-out worker function and the chunk it takes (absent: fan-outs post by themselves). */
  fanoutWorkers?: { functionName: string; chunkSize: number };
  /**
   * The page cursors' key, where a host or a test gives its own; absent: `PARLEY_CURSOR_KEY` or
   * the stack's secret, read on first use by the functions that page (withCursors).
   */
  cursorKey?: CursorKey;
  /** Absent where no bucket is configured (then sends with attachments are refused). */
  attachments?: {
    bucketName: string;
    /** Path-style addressing, for an S3-compatible store behind an endpoint override. */
    pathStyle: boolean;
    settings: AttachmentSettings;
  };
}

/**
 * The one place the functions' environment is read (set by the CDK stack in AWS, by `npm start`
 * locally). A missing or malformed value is a deployment error: it throws.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DepsConfig {
  const workerFunction = env[ENV.fanoutWorkerFunction];
  return {
    ...attachmentConfigFromEnv(env),
    wsCallbackUrl: requireEnv(ENV.wsCallbackUrl, env),
    settings: settingsFromEnv(env),
    ...(workerFunction && { fanoutWorkers: { functionName: workerFunction, chunkSize: Math.max(1, intSetting(ENV.fanoutChunk, FANOUT_CHUNK, env)) } }),
  };
}

/** The table and the bucket alone: what the thumbnail maker reads (its bundle then carries no other setting). */
export function attachmentConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<DepsConfig, 'tableName' | 'attachments'> {
  const bucketName = env[ENV.bucketName];
  return {
    tableName: requireEnv(ENV.tableName, env),
    ...(bucketName && {
      attachments: { bucketName, pathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL), settings: attachmentSettings(env) },
    }),
  };
}

function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const rule = (kind: keyof typeof RATE_DEFAULTS, limit: EnvName, window: EnvName) => ({
    limit: intSetting(limit, RATE_DEFAULTS[kind].limit, env),
    windowSeconds: Math.max(1, intSetting(window, RATE_DEFAULTS[kind].windowSeconds, env)),
  });
  return {
    maxContentLength: intSetting(ENV.maxMessageLength, MESSAGE_LIMITS.contentLength, env),
    editWindowSeconds: intSetting(ENV.editWindowSeconds, MESSAGE_LIMITS.editWindowSeconds, env),
    maxReactionsPerMessage: MESSAGE_LIMITS.reactionsPerMessage,
    searchScanBudget: Math.max(1, intSetting(ENV.searchScanBudget, SEARCH_LIMITS.scanBudget, env)),
    rateLimits: {
      send: rule('send', ENV.sendRateLimit, ENV.sendRateWindowSeconds),
      write: rule('write', ENV.writeRateLimit, ENV.writeRateWindowSeconds),
      search: rule('search', ENV.searchRateLimit, ENV.searchRateWindowSeconds),
    },
  };
}

/** Attachment settings from the environment; an unknown content type is a deployment error. */
export function attachmentSettings(env: NodeJS.ProcessEnv = process.env): AttachmentSettings {
  const raw = env[ENV.attachmentTypes];
  const allowedTypes = raw ? raw.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean) : [...KNOWN_CONTENT_TYPES];
  const unknown = allowedTypes.filter((t) => !isKnownContentType(t));
  if (unknown.length > 0) throw new Error(`${ENV.attachmentTypes}: the server cannot verify ${unknown.join(', ')}; known: ${KNOWN_CONTENT_TYPES.join(', ')}`);
  return {
    maxBytes: intSetting(ENV.attachmentMaxBytes, ATTACHMENT_LIMITS.maxBytes, env),
    allowedTypes,
    uploadUrlSeconds: Math.max(1, intSetting(ENV.attachmentUploadUrlSeconds, ATTACHMENT_LIMITS.uploadUrlSeconds, env)),
    downloadUrlSeconds: Math.max(1, intSetting(ENV.attachmentDownloadUrlSeconds, ATTACHMENT_LIMITS.downloadUrlSeconds, env)),
    unattachedSeconds: intSetting(ENV.attachmentUnattachedSeconds, ATTACHMENT_LIMITS.unattachedSeconds, env),
  };
}
