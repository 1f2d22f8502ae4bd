// The Temporal client used by the api, scripts and tests: always with the encryption codec, so
// no caller can start a case with personal data in clear.
import { Client, Connection } from '@temporalio/client';
import type { Keyring } from '../config/secrets.js';
import { encryptedDataConverter } from '../crypto/payloadCodec.js';

export async function connectTemporalClient(opts: { address: string; namespace: string; keyring: Keyring }): Promise<Client> {
  const connection = await Connection.connect({ address: opts.address });
  return new Client({ connection, namespace: opts.namespace, dataConverter: encryptedDataConverter(opts.keyring) });
}
