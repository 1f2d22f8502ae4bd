// The Temporal connection options built from TEMPORAL_TLS_* / TEMPORAL_API_KEY (clients/temporal.ts)
// and their validation at start-up (config/index.ts). No TLS server is needed: the options are
// what the SDK's Connection.connect and NativeConnection.connect receive.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { temporalConnectionOptions } from '../../clients/temporal.js';
import { ConfigError, loadConfig } from '../../config/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-tls-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};
const cert = write('client.crt', '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n');
const key = write('client.key', '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n');
const ca = write('ca.crt', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
const missing = path.join(dir, 'nope.pem');

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('temporalConnectionOptions', () => {
  it('when nothing is configured, then the connection is plaintext with no credentials (the dev server)', () => {
    expect(temporalConnectionOptions('127.0.0.1:7233', {})).toEqual({ address: '127.0.0.1:7233' });
  });

  it('when cert, key, CA and server name are set, then mTLS carries the files read and the SNI override', () => {
    const opts = temporalConnectionOptions('temporal.example:7233', { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: 'frontend.internal' });
    expect(opts.address).toBe('temporal.example:7233');
    expect(opts.apiKey).toBeUndefined();
    expect(typeof opts.tls).toBe('object');
    const tls = opts.tls as Exclude<typeof opts.tls, boolean | undefined>;
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe(fs.readFileSync(cert, 'utf8'));
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe(fs.readFileSync(key, 'utf8'));
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe(fs.readFileSync(ca, 'utf8'));
    expect(tls.serverNameOverride).toBe('frontend.internal');
  });

  it('when only a CA is set, then TLS verifies the server against it and sends no client certificate', () => {
    const opts = temporalConnectionOptions('h:7233', { TEMPORAL_TLS_CA: ca });
    expect(opts.tls).toEqual({ serverRootCACertificate: fs.readFileSync(ca) });
  });

  it('when only an API key is set, then it is sent over TLS verified against the system roots (Temporal Cloud)', () => {
    expect(temporalConnectionOptions('ns.acct.tmprl.cloud:7233', { TEMPORAL_API_KEY: 'secret-key' })).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'secret-key' });
  });

  it('when a certificate comes without its key, then a ConfigError names both variables', () => {
    const e = configError(() => temporalConnectionOptions('h:7233', { TEMPORAL_TLS_CERT: cert }));
    expect(e.problems.join('\n')).toMatch(/TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT/);
  });

  it('when a file cannot be read, then the ConfigError names the variable and the file', () => {
    const e = configError(() => temporalConnectionOptions('h:7233', { TEMPORAL_TLS_CA: missing }));
    expect(e.problems).toEqual([`TEMPORAL_TLS_CA: cannot read ${missing} (ENOENT)`]);
  });
});

describe('loadConfig and the Temporal TLS variables', () => {
  it('when TEMPORAL_TLS_KEY is set without TEMPORAL_TLS_CERT, then start-up fails naming both', () => {
    const e = configError(() => loadConfig({ TEMPORAL_TLS_KEY: key }));
    expect(e.message).toContain('TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY');
  });

  it('when a TLS file is missing, then start-up fails naming the variable', () => {
    const e = configError(() => loadConfig({ TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: key }));
    expect(e.problems).toEqual([`TEMPORAL_TLS_CERT: cannot read ${missing} (ENOENT)`]);
  });

  it('when cert, key and CA are readable, then the configuration loads with them', () => {
    const config = loadConfig({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_API_KEY: 'k' });
    expect([config.TEMPORAL_TLS_CERT, config.TEMPORAL_TLS_KEY, config.TEMPORAL_TLS_CA, config.TEMPORAL_API_KEY]).toEqual([cert, key, ca, 'k']);
  });
});
