-- Electronic licences (电子证照) issued with electronic results: one row per licence, written by the
-- projection when a `delivery.issued` event carries `certificate.licence` (db/elicences.ts), read
-- by the public verification (POST /v1/verify, api/verify.ts) by identifier or by the SM3 digest of
-- a presented document. The signature is kept as the province sent it and checked at verify time
-- against the issuing authority's registered public key (PROVINCES[].licencePublicKey), never here.
CREATE TABLE elicences (
  -- GB/T 36904: 1.2.156.3005.2.<licence type>.<issuer>.<serial>.<version>.<check>
  licence_id     text        PRIMARY KEY,
  case_id        uuid        NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
  -- The handling province, whose issuing authority's key checks the signature.
  province_code  char(6)     NOT NULL,
  -- The issuing authority's unified social credit code (GB 32100) and name.
  issuer_code    char(18)    NOT NULL,
  issuer_name    text        NOT NULL,
  licence_type   text        NOT NULL,
  -- SM3 of the licence document, lower-case hex.
  document_sm3   char(64)    NOT NULL,
  -- SM2 (GB/T 32918.2, default user id) of the 32 digest bytes, DER, lower-case hex.
  signature      text        NOT NULL,
  signed_at      timestamptz NOT NULL,
  issued_at      timestamptz NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX elicences_document_sm3 ON elicences (document_sm3);
CREATE INDEX elicences_case ON elicences (case_id);
