import { newFileToken } from '../ids.js';
import { asRunner, type Executor, type FileKind, prepare, type Runner } from '../store/index.js';

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
  await insertFile.execute(asRunner(db), {
    id,
    accountId: file.accountId,
    kind: file.kind,
    blobKey: file.blobKey,
    contentType: file.contentType,
    size: file.size,
    filePath: file.filePath ?? null,
    fileName: file.fileName,
    now,
    expiresAt: file.expiresAt,
  });
  return id;
}

// Prepared so that a submission recording a fetched source can run it inside its transaction (store.transaction).
const insertFile = prepare<{
  id: string;
  accountId: string;
  kind: FileKind;
  blobKey: string;
  contentType: string;
  size: number;
  filePath: string | null;
  fileName: string;
  now: number;
  expiresAt: number;
}>((db, arg) =>
  db.insertInto('files').values({
    id: arg('id'),
    account_id: arg('accountId'),
    kind: arg('kind'),
    blob_key: arg('blobKey'),
    content_type: arg('contentType'),
    size: arg('size'),
    file_path: arg('filePath'),
    file_name: arg('fileName'),
    created_at: arg('now'),
    expires_at: arg('expiresAt'),
  }),
);

/** Public URLs of a file; the extension helps players, the token is what counts. */
export const fileUrls = (publicUrl: string, token: string) => ({
  audio: `${publicUrl}/files/${token}.mp3`,
  stream: `${publicUrl}/files/${token}/stream`,
  image: `${publicUrl}/files/${token}.jpeg`,
  named: (fileName: string) => `${publicUrl}/files/${token}/${encodeURIComponent(fileName)}`,
});

/** The token in a URL this service handed out, or null for any other URL. */
export function tokenFromOwnUrl(publicUrl: string, url: string): string | null {
  const prefix = `${publicUrl}/files/`;
  if (!url.startsWith(prefix)) return null;
  const match = /^([A-Za-z0-9_-]{32})(?:\.[a-z0-9]+)?(?:\/.*)?$/.exec(url.slice(prefix.length).split(/[?#]/)[0] ?? '');
  return match?.[1] ?? null;
}
