// Encrypts every Temporal payload (workflow input, activity arguments and results, signals,
// queries, memo) with AES-256-GCM, so citizens' data is never stored in clear in Temporal's
// persistence. The worker and every client use the same codec; the key id travels in metadata.
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Keyring } from '../config/secrets.js';
import { open, seal } from './aead.js';

// @temporalio/proto is CommonJS: under Node's ESM loader only its default export is visible.
const { temporal } = proto;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const sealed = seal(this.keyring, temporal.api.common.v1.Payload.encode(payload).finish());
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(sealed.keyId),
        },
        data: sealed.data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
      const keyId = payload.metadata?.[KEY_ID_METADATA];
      if (!keyId || !payload.data) throw new Error('encrypted payload without key id or data');
      const clear = open(this.keyring, { keyId: Buffer.from(keyId).toString(), data: Buffer.from(payload.data) });
      return temporal.api.common.v1.Payload.decode(clear);
    });
  }
}

/** The data converter option for Worker.create and Client constructors. */
export function encryptedDataConverter(keyring: Keyring) {
  return { payloadCodecs: [new EncryptionCodec(keyring)] };
}
