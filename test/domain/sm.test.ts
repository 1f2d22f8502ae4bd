import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as platformSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sm2 } from 'sm-crypto-v2';
import {
  generateSm2KeyPair,
  SM2_DEFAULT_USER_ID,
  Sm2Error,
  sm2PublicKeyFromPrivate,
  sm2Sign,
  sm2Verify,
  sm2Za,
  sm3Hex,
} from '../../crypto/sm.js';

/** Flips one bit of a hex string: bit `bit` of the byte at `byteIndex`. */
function flipBit(hex: string, byteIndex: number, bit = 0): string {
  const bytes = Buffer.from(hex, 'hex');
  bytes[byteIndex] = bytes[byteIndex]! ^ (1 << bit);
  return bytes.toString('hex');
}

describe('SM3 (GB/T 32905-2016)', () => {
  // The two examples of GB/T 32905-2016 Appendix A, as in GmSSL tests/sm3test.c
  // (https://github.com/guanzhi/GmSSL/blob/master/tests/sm3test.c) and emmansun/gmsm sm3/sm3_test.go.
  it('When "abc" is hashed, then the digest is the standard example 1', () => {
    expect(sm3Hex('abc')).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('When the 64-byte "abcd"×16 is hashed, then the digest is the standard example 2', () => {
    expect(sm3Hex('abcd'.repeat(16))).toBe('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('When a string and its UTF-8 bytes are hashed, then the digests agree', () => {
    expect(sm3Hex(Buffer.from('电子证照', 'utf8'))).toBe(sm3Hex('电子证照'));
  });
});

describe('SM2 signatures (GB/T 32918.2-2016)', () => {
  // The signature example on the recommended curve: GM/T 0003.5-2012 and GB/T 32918.5-2017,
  // Annex A (https://www.chinesestandard.net/PDF/English.aspx/GMT0003.5-2012), with the default
  // identifier of GM/T 0009-2012. d, M, k, r and s are also OpenSSL's known-answer test
  // (https://github.com/openssl/openssl/blob/master/test/sm2_internal_test.c, sm2_sig_test), and
  // [k]G is the C1 of its encryption test with the same k.
  const example = {
    d: '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8',
    xA: '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020',
    yA: 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13',
    message: 'message digest',
    za: 'B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3',
    e: 'F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640',
    k: '59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21',
    x1: '04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73',
    r: 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3',
    s: 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
  };
  const publicKey = `04${example.xA}${example.yA}`.toLowerCase();
  // Both r and s have their top bit set, so each DER INTEGER takes a leading zero byte.
  const publishedSignature = `3046022100${example.r}022100${example.s}`.toLowerCase();

  it('When the example private key is used, then its public key is the published point', () => {
    expect(sm2PublicKeyFromPrivate(example.d)).toBe(publicKey);
  });

  it('When ZA is computed with the default identifier, then it is the published ZA, and SM3(ZA ‖ M) is the published e', () => {
    expect(SM2_DEFAULT_USER_ID).toBe('1234567812345678');
    const za = sm2Za(publicKey);
    expect(za).toBe(example.za.toLowerCase());
    expect(sm3Hex(Buffer.concat([Buffer.from(za, 'hex'), Buffer.from(example.message)]))).toBe(example.e.toLowerCase());
  });

  it('When the published signature is verified with the published public key, then it is genuine', () => {
    expect(sm2Verify(publicKey, example.message, publishedSignature)).toBe(true);
    expect(sm2Verify(publicKey.toUpperCase(), Buffer.from(example.message), publishedSignature.toUpperCase())).toBe(true);
  });

  it('When the library signs with the published k, then it reproduces the published r and s', () => {
    // sm2Sign never takes k; the library's point pool lets this test fix it to the standard's.
    expect(sm2PublicKeyFromPrivate(example.k).slice(2, 66)).toBe(example.x1.toLowerCase());
    const rs = sm2.doSignature(Buffer.from(example.message), example.d.toLowerCase(), {
      hash: true,
      publicKey,
      userId: SM2_DEFAULT_USER_ID,
      pointPool: [{ k: BigInt(`0x${example.k}`), x1: BigInt(`0x${example.x1}`) }],
    });
    expect(rs).toBe(`${example.r}${example.s}`.toLowerCase());
  });

  it('When a message is signed and verified, then it is genuine, and signatures are fresh DER each time', () => {
    const keys = generateSm2KeyPair();
    expect(keys.privateKey).toMatch(/^[0-9a-f]{64}$/);
    expect(keys.publicKey).toMatch(/^04[0-9a-f]{128}$/);
    expect(sm2PublicKeyFromPrivate(keys.privateKey)).toBe(keys.publicKey);
    const documentHash = sm3Hex('the licence document');
    const a = sm2Sign(keys.privateKey, documentHash);
    const b = sm2Sign(keys.privateKey, documentHash);
    expect(a).toMatch(/^30[0-9a-f]{2}02/);
    expect(a).not.toBe(b); // a fresh k every time
    expect(sm2Verify(keys.publicKey, documentHash, a)).toBe(true);
    expect(sm2Verify(keys.publicKey, Buffer.from(documentHash, 'utf8'), b)).toBe(true);
  });

  it('When the signer used another identifier, then the signature verifies only under that identifier', () => {
    const keys = generateSm2KeyPair();
    const signature = sm2Sign(keys.privateKey, 'M', 'issuer@example.gov.cn');
    expect(sm2Verify(keys.publicKey, 'M', signature, 'issuer@example.gov.cn')).toBe(true);
    expect(sm2Verify(keys.publicKey, 'M', signature)).toBe(false);
  });

  describe('one bit changed', () => {
    const message = Buffer.from(example.message);

    it('When one bit of the message changes, then the signature fails', () => {
      for (let byte = 0; byte < message.length; byte++) {
        const altered = Buffer.from(message);
        altered[byte] = altered[byte]! ^ 0x01;
        expect(sm2Verify(publicKey, altered, publishedSignature)).toBe(false);
      }
    });

    it('When one bit of r or s changes, then the signature fails', () => {
      // r occupies bytes 5..36 and s bytes 40..71 of the DER; try the low and the high bit of each.
      for (const byte of [5, 20, 36, 40, 55, 71]) {
        for (const bit of [0, 7]) expect(sm2Verify(publicKey, message, flipBit(publishedSignature, byte, bit))).toBe(false);
      }
    });

    it('When one bit of the private key changes, then its signatures fail against the published public key', () => {
      const otherKey = flipBit(example.d, 31);
      const signature = sm2Sign(otherKey, message);
      expect(sm2Verify(sm2PublicKeyFromPrivate(otherKey), message, signature)).toBe(true);
      expect(sm2Verify(publicKey, message, signature)).toBe(false);
      expect(sm2Verify(sm2PublicKeyFromPrivate(otherKey), message, publishedSignature)).toBe(false);
    });

    it('When one bit of the public key changes, then it is no longer a point of the curve and is refused', () => {
      expect(() => sm2Verify(flipBit(publicKey, 64), message, publishedSignature)).toThrow(Sm2Error);
      expect(() => sm2Verify(flipBit(publicKey, 10), message, publishedSignature)).toThrow(Sm2Error);
    });
  });

  it('When the signature is not canonical DER or out of range, then it is refused', () => {
    const message = example.message;
    const der = (r: string, s: string) => {
      const body = `02${(r.length / 2).toString(16).padStart(2, '0')}${r}02${(s.length / 2).toString(16).padStart(2, '0')}${s}`;
      return `30${(body.length / 2).toString(16).padStart(2, '0')}${body}`;
    };
    const r = `00${example.r}`.toLowerCase();
    const s = `00${example.s}`.toLowerCase();
    expect(der(r, s)).toBe(publishedSignature);
    expect(sm2Verify(publicKey, message, `${example.r}${example.s}`)).toBe(false); // raw r ‖ s
    expect(sm2Verify(publicKey, message, `${publishedSignature}00`)).toBe(false); // trailing byte
    expect(sm2Verify(publicKey, message, der(`00${r}`, s))).toBe(false); // non-minimal integer
    expect(sm2Verify(publicKey, message, der(example.r.toLowerCase(), s))).toBe(false); // negative r
    expect(sm2Verify(publicKey, message, der('00', s))).toBe(false); // r = 0
    expect(sm2Verify(publicKey, message, der(r, '00fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123'))).toBe(false); // s = n
    expect(sm2Verify(publicKey, message, '')).toBe(false);
    expect(sm2Verify(publicKey, message, 'not hex')).toBe(false);
  });

  it('When a key or identifier is unusable, then Sm2Error names it', () => {
    const problem = (f: () => unknown) => {
      try {
        f();
        return null;
      } catch (err) {
        expect(err).toBeInstanceOf(Sm2Error);
        return (err as Sm2Error).problem;
      }
    };
    expect(problem(() => sm2Sign('00'.repeat(32), 'M'))).toBe('privateKey'); // d = 0
    expect(problem(() => sm2Sign('fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54122', 'M'))).toBe('privateKey'); // d = n-1
    expect(problem(() => sm2Sign('xyz', 'M'))).toBe('privateKey');
    expect(problem(() => sm2Verify(publicKey.slice(2), 'M', publishedSignature))).toBe('publicKey'); // no 04 prefix
    expect(problem(() => sm2Verify(`04${'00'.repeat(64)}`, 'M', publishedSignature))).toBe('publicKey');
    expect(problem(() => sm2Za(publicKey, 'x'.repeat(8192)))).toBe('userId');
  });

  it("When node:crypto signs with an SM2 key, then it is not the GB/T 32918 signature with the default identifier (why the library)", () => {
    // A key from generateKeyPairSync is a plain EC key: crypto.sign makes ECDSA over the SM2 curve.
    const generated = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const spkiOf = (key: ReturnType<typeof createPublicKey>) => key.export({ type: 'spki', format: 'der' }).subarray(-65).toString('hex');
    const message = Buffer.from('M');
    const ecdsa = platformSign('sm3', message, generated.privateKey).toString('hex');
    expect(sm2Verify(spkiOf(generated.publicKey), message, ecdsa)).toBe(false);
    expect(sm2Verify(spkiOf(generated.publicKey), message, ecdsa, '')).toBe(false);
    // The same key read back from PEM is OpenSSL's SM2 type: SM2, but with an empty identifier.
    const reread = createPrivateKey(generated.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const emptyId = platformSign(null, message, reread).toString('hex');
    const publicKeyHex = spkiOf(createPublicKey(reread));
    expect(sm2Verify(publicKeyHex, message, emptyId, '')).toBe(true);
    expect(sm2Verify(publicKeyHex, message, emptyId)).toBe(false);
  });
});
