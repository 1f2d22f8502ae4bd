// Encrypts every Temporal payload (workflow input, activity arguments and results, signals,
// updates, queries, failures' details) with AES-256-GCM, so citizens' data is never stored in
// clear in Temporal's persistence. The worker and every client use the same codec; the key id
// travels in metadata so keys can rotate.
//
// Two rules make the payload key the only way into a case (docs/security.md):
// - Each payload is bound to the workflow it belongs to: the workflow id (from the SDK's
//   serialization context) is authenticated data of the ciphertext and travels in metadata. The
//   codec endpoint decodes a payload only for staff who may see that workflow's case, and a
//   payload moved to another workflow's history no longer opens under that workflow's id.
// - Decoding refuses unencrypted payloads instead of passing them through: whoever lacks the key
//   cannot put data into a case by talking to Temporal directly. A refused payload is replaced by
//   a marker value (REFUSED_PAYLOAD) rather than failing the workflow task, which would wedge the
//   case: the case workflow drops such a signal on the record and rejects such an update or start.
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec, type SerializationContext } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Keyring } from '../config/secrets.js';
import { open, seal } from './aead.js';

// @temporalio/proto is CommonJS: under Node's ESM loader only its default export is visible.
const { temporal } = proto;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const WORKFLOW_ID_METADATA = 'encryption-workflow-id';

/** What an unencrypted payload decodes to. */
export const REFUSED_PAYLOAD = { unencryptedPayloadRefused: true } as const;

const refusedPayload = (): Payload => ({
  metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(REFUSED_PAYLOAD)),
});

const aadOf = (workflowId: string) => Buffer.from(`tongban-payload:v1:${workflowId}`);

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return !!encoding && Buffer.from(encoding).toString() === ENCRYPTED_ENCODING;
}

/** The workflow an encrypted payload is bound to, or null for one sealed without a workflow context. */
export function boundWorkflowId(payload: Payload): string | null {
  const id = payload.metadata?.[WORKFLOW_ID_METADATA];
  return id && id.length > 0 ? Buffer.from(id).toString() : null;
}

function workflowIdOf(context?: SerializationContext): string | null {
  return context?.workflowId ? context.workflowId : null;
}

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const workflowId = workflowIdOf(context);
    return payloads.map((payload) => {
      const clear = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = seal(this.keyring, clear, workflowId ? aadOf(workflowId) : undefined);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(sealed.keyId),
          ...(workflowId ? { [WORKFLOW_ID_METADATA]: Buffer.from(workflowId) } : {}),
        },
        data: sealed.data,
      };
    });
  }

  /** Worker and client side: an unencrypted payload becomes REFUSED_PAYLOAD; a tampered one throws. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.open(payload) : refusedPayload()));
  }

  /** Opens one encrypted payload under the workflow id it is bound to; throws if it was altered. */
  open(payload: Payload): Payload {
    const keyId = payload.metadata?.[KEY_ID_METADATA];
    if (!keyId || !payload.data) throw new Error('encrypted payload without key id or data');
    const workflowId = boundWorkflowId(payload);
    const clear = open(this.keyring, { keyId: Buffer.from(keyId).toString(), data: Buffer.from(payload.data) }, workflowId ? aadOf(workflowId) : undefined);
    return temporal.api.common.v1.Payload.decode(clear);
  }
}

/** The data converter option for Worker.create and Client constructors. */
export function encryptedDataConverter(keyring: Keyring) {
  return { payloadCodecs: [new EncryptionCodec(keyring)] };
}
