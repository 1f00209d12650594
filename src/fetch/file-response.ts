// src/fetch/file-response.ts: answer with a file that the main thread streams from disk (Waitress's
// wsgi.file_wrapper).
//
//   import { fileResponse } from 'waitstate';
//   export const app = () => fileResponse('./big.iso', { headers: { 'content-type': 'application/octet-stream' } });
//
// The Response carries only the file's path: the server opens the file, sends Content-Length
// from its size (a smaller Content-Length set by the app sends that many bytes; a larger one is
// corrected to the size, as Waitress does), and copies it to the socket in 256 KiB reads, reading
// ahead only as far as outbuf_overflow. From a worker thread only the path crosses, never the bytes. Its `body` is
// null to the app: the bytes are the server's business.

import { resolve } from 'node:path';
import { RealResponse } from './response.js';

// Symbol.for: the marker must survive two copies of waitstate in one process (an app importing
// its own copy, or built and source modules side by side in tests).
const kFilePath = Symbol.for('waitstate.filePath');

type ResponseInitLike = ConstructorParameters<typeof Response>[1];

/** A Response whose body is the file at `path` (relative to the current directory, or absolute). */
export function fileResponse(path: string, init?: ResponseInitLike): Response {
  const response = new RealResponse(null, init);
  Object.defineProperty(response, kFilePath, { value: resolve(path) });
  return response;
}

/** The file a response stands for, if it was made by fileResponse(). */
export function filePathOf(response: Response): string | undefined {
  return (response as unknown as Record<symbol, string | undefined>)[kFilePath];
}
