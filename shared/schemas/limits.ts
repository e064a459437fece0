/**
 * The limits the schemas check, apart from the schemas so that code needing only a number (the
 * functions' configuration) does not build every schema at its cold start. The schema modules
 * export them too.
 */

export const MESSAGE_LIMITS = {
  /** Default; the deployment may set another (ENV.maxMessageLength), checked by the domain. */
  contentLength: 4000,
  /** What a frame can carry at all (API Gateway refuses frames over 32 KB). */
  contentHardLimit: 32_000,
  editWindowSeconds: 15 * 60,
  reactionsPerMessage: 50,
  metadataBytes: 8 * 1024,
  /** Levels of nesting `metadata` may have (the object itself is the first). */
  metadataDepth: 32,
  historyPageDefault: 50,
  historyPageMax: 100,
} as const;

export const SEARCH_LIMITS = {
  queryLength: 200,
  /** Words a query may have; each must be in a message for it to match. */
  terms: 10,
  pageDefault: 20,
  pageMax: 50,
  /** Default of the messages one request reads at most before it answers with a cursor (ENV.searchScanBudget). */
  scanBudget: 1000,
} as const;

/** Defaults an operator may change (ENV.attachmentMaxBytes, ENV.attachmentTypes, ...). */
export const ATTACHMENT_LIMITS = {
  maxBytes: 10 * 1024 * 1024,
  perMessage: 10,
  uploadUrlSeconds: 5 * 60,
  downloadUrlSeconds: 15 * 60,
  /** An upload no message claims is deleted after this long. */
  unattachedSeconds: 24 * 60 * 60,
  fileNameLength: 255,
  /**
   * The most an image's declared `width` or `height` may be: the largest side a JPEG or GIF header
   * can state (WebP's is 16,383). Larger than any photo's; the thumbnail maker decodes at most
   * 40 MP anyway, so past that the declared size is the only one an image gets.
   */
  imageSideMax: 65_535,
} as const;

/** Content types the server can verify by their first bytes; the default allow-list is all of them. */
export const KNOWN_CONTENT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'application/pdf',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'text/plain',
] as const;
