import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { tempDir } from './stores.js';

/**
 * A real S3-compatible server for tests: s3rver (pure JavaScript, objects in a temporary
 * directory) on 127.0.0.1 and a free port, with one empty bucket. It accepts only its
 * built-in, obviously fake key pair below, and checks presigned URLs' expiry; it does not
 * verify SigV4 signatures themselves.
 */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The variables that point `reprise serve` (or loadConfig) at this server, presigning off. */
  env: Record<string, string>;
  /** A client of our own, to look behind reprise's back (list, delete objects). */
  client: S3Client;
  keys(prefix?: string): Promise<string[]>;
  exists(key: string): Promise<boolean>;
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

export const TEST_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startTestS3(bucket = 'reprise-test'): Promise<TestS3> {
  // Clients made in this process (in-process tests) read it from here; child processes get `env`.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: tempDir('s3'),
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: TEST_S3_CREDENTIALS });
  return {
    endpoint,
    bucket,
    env: {
      REPRISE_BLOB_STORE: 's3',
      REPRISE_S3_ENDPOINT: endpoint,
      REPRISE_S3_BUCKET: bucket,
      REPRISE_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: TEST_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_S3_CREDENTIALS.secretAccessKey,
      // The SDK warns on Node 20 about its releases from 2027 on; reprise pins one that supports it.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    client,
    async keys(prefix) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }));
      return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
    },
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (error) {
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
        throw error;
      }
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
