/**
 * The validator's own state (functions/validator/README.md "State"), behind one
 * small port with two adapters: a file in the validator's data directory
 * (file-state-store.ts) and its own DynamoDB table (dynamo-state-store.ts).
 * It never lives in the coordinator's table.
 *
 * Two kinds of data:
 *
 * - the state document: the calendar it vouches for (size, frontier, the leaf
 *   hash and time of the last header), the POSIX seconds of its last
 *   cosignature, and a STATE_CONFLICT reason once one was found;
 * - signed records, one per size it signed: (size -> SHA-256 of the checkpoint
 *   text, cosignature time). A record is written conditionally BEFORE the
 *   signature leaves the process, so only one checkpoint per size can ever be
 *   signed, by any number of instances sharing the store; its time makes every
 *   repeat of that signature the identical line.
 */

export interface ValidatorState {
  /** Calendar size the validator vouches for: signed itself, or adopted from quorum-signed blocks (0 = nothing yet). */
  size: number;
  /** Roots of the perfect subtrees of the calendar of `size` (frontier.ts), left to right. */
  frontier: Uint8Array[];
  /** Calendar leaf hash of header size - 1 (the next header's prev); 32 zero bytes at size 0. */
  lastLeaf: Uint8Array;
  /** Time of header size - 1 ('' at size 0): the next header's time may not be earlier. */
  lastTime: string;
  /** POSIX seconds of its latest cosignature (0: none): it never cosigns with an earlier time. */
  cosignedAt: number;
  /** Set once its state was found to contradict the quorum-signed log: it then refuses everything. */
  conflict: string | null;
  updatedAt: string;
}

export interface SignedRecord {
  size: number;
  /** Lowercase hex SHA-256 of the checkpoint text signed at that size. */
  hash: string;
  /** POSIX seconds of the cosignature: a repeat signs with this time, giving the identical line. */
  at: number;
}

export type RecordResult =
  | { result: 'recorded'; record: SignedRecord }
  /** The same checkpoint was recorded before: sign it again with the stored record's time. */
  | { result: 'same'; record: SignedRecord }
  /** Another checkpoint of that size was recorded: never sign this one. */
  | { result: 'conflict'; record: SignedRecord };

export interface ValidatorStateStore {
  /** Where the state lives, for logs and messages (a path or a table name). */
  readonly location: string;
  /** The state document, or null for a validator that has never stored one. */
  load(): Promise<ValidatorState | null>;
  /**
   * Replace the state document. Never moves back: false (and nothing written) when
   * the stored document has a larger size (another instance of this validator moved on).
   */
  save(state: ValidatorState): Promise<boolean>;
  /** The record of a size, or null. */
  getSigned(size: number): Promise<SignedRecord | null>;
  /** Conditional write of a record (see RecordResult); durable before it resolves. */
  recordSigned(record: SignedRecord): Promise<RecordResult>;
  /** Release what the store holds (file lock, client). */
  close(): Promise<void>;
}

/** The state of a validator that has vouched for nothing yet: the empty calendar. */
export function initialState(): ValidatorState {
  return { size: 0, frontier: [], lastLeaf: new Uint8Array(32), lastTime: '', cosignedAt: 0, conflict: null, updatedAt: '' };
}

/** How many signed records the file store keeps (the most recent sizes); older sizes are below its state anyway. */
export const KEPT_RECORDS = 1000;
