import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ConfigError, type S3Config } from '../config.js';
import { BlobNotFoundError, type BlobStore, type ByteRange, checkedKey } from './blob-store.js';

/** Longest the start-up check waits for the bucket to answer. */
const CHECK_TIMEOUT_MS = 10_000;

export function createS3Client(settings: S3Config): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    // Checksums only where S3 demands them: the SDK's default (a CRC trailer on every upload,
    // aws-chunked bodies) is refused by many self-hosted S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: 5_000,
      // A file streamed through reprise holds one connection for as long as its client reads;
      // with the SDK's default of 50, the 51st concurrent download would wait for one to end.
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  });
}

/** "Not found" as S3 says it: NoSuchKey from GET, a bare 404 from HEAD (which has no body to name it). */
function isMissing(error: unknown): boolean {
  return error instanceof S3ServiceException && error.name !== 'NoSuchBucket' && (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404);
}

const rangeHeader = (range: ByteRange): string => `bytes=${range.start}-${range.end}`;

/**
 * Blobs as objects in one bucket of an S3-compatible service, under the same keys as on disk.
 * Uploads go through lib-storage, which sends a small body in one PUT and streams a large one
 * as a multipart upload; either way the object appears whole or not at all (a failed multipart
 * upload is aborted, so no parts linger).
 */
export function createS3BlobStore(client: S3Client, settings: S3Config): BlobStore {
  const Bucket = settings.bucket;
  async function getObject(key: string, range?: ByteRange) {
    try {
      return await client.send(new GetObjectCommand({ Bucket, Key: checkedKey(key), ...(range ? { Range: rangeHeader(range) } : {}) }));
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }
  return {
    async put(key, body) {
      await new Upload({ client, params: { Bucket, Key: checkedKey(key), Body: body }, leavePartsOnError: false }).done();
    },
    async get(key) {
      const response = await getObject(key);
      const bytes = await response.Body?.transformToByteArray();
      if (!bytes) throw new Error(`S3 answered GetObject ${key} without a body`);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    async size(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: checkedKey(key) }));
        return head.ContentLength ?? 0;
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },
    async stream(key, range) {
      const body = (await getObject(key, range)).Body;
      // In Node the SDK hands the HTTP response over as it came: a Readable.
      if (!(body instanceof Readable)) throw new Error(`S3 answered GetObject ${key} without a body stream`);
      return body;
    },
    async delete(key) {
      // S3 answers 204 for a key that is not there: deleting twice is no error, as on disk.
      await client.send(new DeleteObjectCommand({ Bucket, Key: checkedKey(key) }));
    },
    async directUrl(key, options) {
      if (!settings.presign) return null;
      // The response-* overrides make the S3 server answer with the type and name reprise would have sent.
      const command = new GetObjectCommand({
        Bucket,
        Key: checkedKey(key),
        ResponseContentType: options.contentType,
        ...(options.contentDisposition ? { ResponseContentDisposition: options.contentDisposition } : {}),
      });
      return getSignedUrl(client, command, { expiresIn: Math.max(1, Math.floor(options.expiresInS)) });
    },
  };
}

/** Why HeadBucket failed, said in terms of the settings an operator can change. */
function bucketProblem(error: unknown, settings: S3Config): string {
  const where = `bucket "${settings.bucket}" at REPRISE_S3_ENDPOINT=${settings.endpoint}`;
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    if (status === 404) return `${where} does not exist (check REPRISE_S3_BUCKET)`;
    if (status === 401 || status === 403) {
      return `${where} refused access (HTTP ${status}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's permissions`;
    }
    if (status === 301 || status === 307 || status === 400) {
      return `${where} answered HTTP ${status} (${error.name}): check REPRISE_S3_REGION and REPRISE_S3_FORCE_PATH_STYLE`;
    }
    return `${where} answered HTTP ${status ?? '?'} (${error.name})`;
  }
  const failure = error as { name?: string; code?: string; message?: string };
  if (failure.name === 'CredentialsProviderError') {
    return `no credentials for ${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (${failure.message ?? ''})`;
  }
  const reason =
    failure.name === 'TimeoutError' || failure.name === 'AbortError' ? `no answer within ${CHECK_TIMEOUT_MS / 1000} s` : (failure.code ?? failure.message);
  return `cannot reach ${where}: ${reason}`;
}

/** Fails with a ConfigError naming what to fix when the bucket cannot be reached with these settings. */
export async function checkBucket(client: S3Client, settings: S3Config): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }), { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  } catch (error) {
    throw new ConfigError(`REPRISE_BLOB_STORE=s3: ${bucketProblem(error, settings)}`);
  }
}

/** The S3 blob store, once its bucket has answered: a wrong setting stops start-up, not the first upload. */
export async function openS3BlobStore(settings: S3Config): Promise<BlobStore> {
  const client = createS3Client(settings);
  try {
    await checkBucket(client, settings);
  } catch (error) {
    client.destroy();
    throw error;
  }
  return createS3BlobStore(client, settings);
}
