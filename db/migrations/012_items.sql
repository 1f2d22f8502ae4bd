-- The item catalog (事项目录): every version of every service item definition, from the item files
-- published at start (catalog/sync.ts, source 'file') or posted by an item admin (api/items.ts,
-- source 'api'). A version goes draft → published → superseded (a newer one was published) and may
-- be retired (it takes no new applications); its definition never changes once written, and
-- sha256 (of its canonical JSON, domain/canonicalJson.ts) lets a start tell an unchanged item
-- file from an edited one. At most one version of a code is published: that is the one intake
-- pins into a new case. Running cases carry their pinned definition in the workflow input, so
-- nothing here can change them.
CREATE TABLE item_versions (
  code           text        NOT NULL,
  version        int         NOT NULL CHECK (version >= 1),
  status         text        NOT NULL CHECK (status IN ('draft', 'published', 'superseded', 'retired')),
  definition     jsonb       NOT NULL,
  sha256         text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  source         text        NOT NULL CHECK (source IN ('file', 'api')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  created_by     text        NOT NULL,
  -- Null for a draft, and for an item file older than the published version (stored superseded).
  published_at   timestamptz,
  published_by   text,
  retired_at     timestamptz,
  retired_by     text,
  retire_reason  text,
  PRIMARY KEY (code, version),
  CHECK (definition->>'code' = code AND (definition->>'version')::int = version),
  CHECK (status <> 'draft' OR published_at IS NULL),
  CHECK (status <> 'published' OR published_at IS NOT NULL),
  CHECK ((status = 'retired') = (retired_at IS NOT NULL AND retire_reason IS NOT NULL))
);
-- One published version per code: two publishers racing cannot both win.
CREATE UNIQUE INDEX item_versions_one_published ON item_versions (code) WHERE status = 'published';
