/** The attachments bucket's local name; in AWS the stack names it and passes the name in ENV.bucketName. */
export const BUCKET = { localName: 'parley-attachments' } as const;
