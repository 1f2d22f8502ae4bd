import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, ENCRYPTED_ENCODING, REFUSED_PAYLOAD } from '../../crypto/payloadCodec.js';
import { openText, sealText } from '../../crypto/aead.js';
import { redactIdNumbers } from '../../crypto/pii.js';

const keyring = (active: string, keys: Record<string, Buffer>) => ({ activeKeyId: active, keys: new Map(Object.entries(keys)) });

describe('payload encryption', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('When a payload with an identity number is encoded, then the stored bytes do not contain it and decode restores it', async () => {
    const codec = new EncryptionCodec(keyring('k1', { k1 }));
    const payload = defaultPayloadConverter.toPayload({ applicant: { idNumber: '11010519491231002X', name: '张三' } });
    const [encoded] = await codec.encode([payload]);
    expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded!.metadata!['encryption-key-id']!).toString()).toBe('k1');
    expect(Buffer.from(encoded!.data!).includes('11010519491231002X')).toBe(false);
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ applicant: { idNumber: '11010519491231002X', name: '张三' } });
  });

  it('When the active key rotates, then payloads sealed with the old key still open', async () => {
    const [old] = await new EncryptionCodec(keyring('k1', { k1 })).encode([defaultPayloadConverter.toPayload('旧数据')]);
    const rotated = new EncryptionCodec(keyring('k2', { k1, k2 }));
    const [decoded] = await rotated.decode([old!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toBe('旧数据');
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload('新数据')]);
    expect(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString()).toBe('k2');
  });

  it('When ciphertext is tampered with, then decoding fails instead of returning altered data', async () => {
    const codec = new EncryptionCodec(keyring('k1', { k1 }));
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload('完整性')]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 0xff;
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow();
  });

  it('When a payload is not encrypted, then decoding refuses its content (a marker value comes back instead)', async () => {
    const codec = new EncryptionCodec(keyring('k1', { k1 }));
    const plain = defaultPayloadConverter.toPayload({ eventId: 'forged', type: 'case.approved', at: '2026-01-01T00:00:00Z', data: {}, via: 'callback' });
    const [decoded] = await codec.decode([plain]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(REFUSED_PAYLOAD);
  });

  it('When a payload is bound to a workflow, then it carries that id and opens only under it', async () => {
    const codec = new EncryptionCodec(keyring('k1', { k1 }));
    const context = { type: 'workflow' as const, namespace: 'default', workflowId: 'case:one' };
    const [bound] = await codec.encode([defaultPayloadConverter.toPayload('绑定')], context);
    expect(Buffer.from(bound!.metadata!['encryption-workflow-id']!).toString()).toBe('case:one');
    expect(defaultPayloadConverter.fromPayload((await codec.decode([bound!]))[0]!)).toBe('绑定');
    const moved = { ...bound!, metadata: { ...bound!.metadata, 'encryption-workflow-id': Buffer.from('case:two') } };
    await expect(codec.decode([moved])).rejects.toThrow();
    const stripped = { ...bound!, metadata: { encoding: bound!.metadata!.encoding!, 'encryption-key-id': bound!.metadata!['encryption-key-id']! } };
    await expect(codec.decode([stripped])).rejects.toThrow();
  });

  it('When a database value is sealed, then it opens with the keyring and text redaction hides identity numbers', () => {
    const ring = keyring('k1', { k1 });
    const sealed = sealText(ring, '11010519491231002X');
    expect(sealed.startsWith('k1:')).toBe(true);
    expect(openText(ring, sealed)).toBe('11010519491231002X');
    expect(redactIdNumbers('申请人 11010519491231002X 提交')).toBe('申请人 110[REDACTED] 提交');
  });
});
