import { newFileToken } from '../ids.js';
import { asRunner, type Executor, type FileKind, insertRows, type Runner } from '../store/index.js';

/**
 * The registry of files handed out by URL. A file's URL carries an unguessable
 * token; the row maps it to a blob and says until when it is served.
 */
export interface NewFile {
  accountId: string;
  kind: FileKind;
  blobKey: string;
  contentType: string;
  size: number;
  fileName: string;
  filePath?: string | null;
  expiresAt: number;
}

export async function registerFile(db: Executor | Runner, file: NewFile, now: number): Promise<string> {
  const id = newFileToken();
  await insertRows(asRunner(db), 'files', [
    {
      id,
      account_id: file.accountId,
      kind: file.kind,
      blob_key: file.blobKey,
      content_type: file.contentType,
      size: file.size,
      file_path: file.filePath ?? null,
      file_name: file.fileName,
      created_at: now,
      expires_at: file.expiresAt,
    },
  ]);
  return id;
}

/** Public URLs of a file; the extension helps players, the token is what counts. */
export const fileUrls = (publicUrl: string, token: string) => ({
  audio: `${publicUrl}/files/${token}.mp3`,
  stream: `${publicUrl}/files/${token}/stream`,
  image: `${publicUrl}/files/${token}.jpeg`,
  wav: `${publicUrl}/files/${token}.wav`,
  video: `${publicUrl}/files/${token}.mp4`,
  named: (fileName: string) => `${publicUrl}/files/${token}/${encodeURIComponent(fileName)}`,
});

/** The token in a URL this service handed out, or null for any other URL. */
export function tokenFromOwnUrl(publicUrl: string, url: string): string | null {
  const prefix = `${publicUrl}/files/`;
  if (!url.startsWith(prefix)) return null;
  const match = /^([A-Za-z0-9_-]{32})(?:\.[a-z0-9]+)?(?:\/.*)?$/.exec(url.slice(prefix.length).split(/[?#]/)[0] ?? '');
  return match?.[1] ?? null;
}
