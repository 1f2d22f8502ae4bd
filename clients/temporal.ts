// Temporal connections: the client used by the api, scripts and tests (always with the encryption
// codec, so no caller can start a case with personal data in clear), and the one function that
// turns the TEMPORAL_TLS_* / TEMPORAL_API_KEY settings into connection options. The worker's
// NativeConnection (worker/system.ts, worker/main.ts) and the client's Connection take the same
// options, so a cluster that needs mTLS or an API key is reached the same way by everyone.
import fs from 'node:fs';
import { Client, Connection, type TLSConfig, type WorkflowClientInterceptor } from '@temporalio/client';
import { ConfigError, type Config } from '../config/index.js';
import type { Keyring } from '../config/secrets.js';
import { encryptedDataConverter } from '../crypto/payloadCodec.js';

/** The settings that say how to secure a Temporal connection (all optional: none = plaintext, as the dev server wants). */
export type TemporalSecurity = Partial<Pick<Config, 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY' | 'TEMPORAL_TLS_CA' | 'TEMPORAL_TLS_SERVER_NAME' | 'TEMPORAL_API_KEY'>>;

/** What both `Connection.connect` (@temporalio/client) and `NativeConnection.connect` (@temporalio/worker) accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/**
 * Connection options for `address` under the given settings: cert+key → mTLS, CA → verify the
 * server against it, server name → SNI override, API key → bearer token over TLS. Reads the PEM
 * files now, so a missing or unreadable file is a ConfigError naming its variable.
 */
export function temporalConnectionOptions(address: string, security: TemporalSecurity = {}): TemporalConnectionOptions {
  const { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: serverName, TEMPORAL_API_KEY: apiKey } = security;
  const problems: string[] = [];
  if (cert && !key) problems.push('TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT (mTLS needs both the certificate and its key)');
  if (key && !cert) problems.push('TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY (mTLS needs both the certificate and its key)');
  const read = (name: string, file: string | undefined): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (e) {
      problems.push(`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return undefined;
    }
  };
  const crt = read('TEMPORAL_TLS_CERT', cert);
  const keyPem = read('TEMPORAL_TLS_KEY', key);
  const caPem = read('TEMPORAL_TLS_CA', ca);
  if (problems.length) throw new ConfigError(problems);

  const options: TemporalConnectionOptions = { address };
  if (crt || caPem || serverName || apiKey) {
    const tls: TLSConfig = {};
    if (crt && keyPem) tls.clientCertPair = { crt, key: keyPem };
    if (caPem) tls.serverRootCACertificate = caPem;
    if (serverName) tls.serverNameOverride = serverName;
    // `true` is TLS verified against the system's roots (Temporal Cloud with an API key).
    options.tls = Object.keys(tls).length ? tls : true;
  }
  if (apiKey) options.apiKey = apiKey;
  return options;
}

export async function connectTemporalClient(opts: {
  address: string;
  namespace: string;
  keyring: Keyring;
  security?: TemporalSecurity;
  /** The api's tracing (clients/tracing.ts): workflow starts, signals and updates carry the trace context in their headers. */
  workflowInterceptors?: WorkflowClientInterceptor[];
}): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(opts.address, opts.security));
  return new Client({
    connection,
    namespace: opts.namespace,
    dataConverter: encryptedDataConverter(opts.keyring),
    ...(opts.workflowInterceptors?.length ? { interceptors: { workflow: opts.workflowInterceptors } } : {}),
  });
}
