/**
 * The DynamoDB client of a deployment: everything from the standard AWS SDK
 * configuration, nothing home-made. Region and credentials come from the
 * Lambda environment (AWS_REGION, the execution role); the endpoint is the
 * SDK's own unless `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) names
 * another one, which is how the tests point the Lambda handlers at dynalite.
 * The local engine's client, with its fixed endpoint and dummy credentials, is
 * createDynamoClient in dynalite.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The AWS SDK v3 warns once per process that it will soon need Node 22. The
 * project supports Node 20 until then, so only that one warning is dropped
 * while a client is constructed (that is when the SDK checks). Lambda runs
 * nodejs22.x, where the SDK has nothing to say.
 */
export function withoutNodeVersionWarning<T>(build: () => T): T {
  const original = process.emitWarning;
  const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith('NodeVersionSupportWarning')) return;
    (original as (...a: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
  try {
    return build();
  } finally {
    process.emitWarning = original;
  }
}

/**
 * A client configured only by the environment. Retries: the SDK's standard
 * mode with 4 attempts (as the local client), since a Lambda would rather
 * fail and be retried by its schedule than wait out a long backoff.
 */
export function createAwsDynamoClient(): DynamoDBClient {
  return withoutNodeVersionWarning(
    () =>
      new DynamoDBClient({
        maxAttempts: 4,
        retryMode: 'standard',
        // The SDK waits forever on a silent socket by default; a Lambda would wait until its timeout.
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
      }),
  );
}
