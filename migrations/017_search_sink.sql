-- The search sink (docs/search.md) follows the flat tables one bronze object at a time: per object,
-- the rows_version (migration 014) whose rows it indexed into OpenSearch. An object is behind, its
-- rows part of the sink's lag, exactly when bronze_objects.rows_version > indexed_version (or it has
-- no row here). Documents the index refused (mapping conflict, too large) are kept with the reason,
-- per object and key, until a later version of that object indexes them. Safe to run twice.
CREATE TABLE IF NOT EXISTS search_index_state (
  bronze_object_id bigint      PRIMARY KEY,
  stream           text        NOT NULL,
  indexed_version  integer     NOT NULL,
  docs_indexed     integer     NOT NULL,
  docs_rejected    integer     NOT NULL,
  indexed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS search_index_state_stream ON search_index_state (stream);

CREATE TABLE IF NOT EXISTS search_rejections (
  bronze_object_id bigint      NOT NULL,
  doc_id           text        NOT NULL,
  stream           text        NOT NULL,
  rows_version     integer     NOT NULL,
  http_status      integer     NOT NULL,
  error_type       text        NOT NULL,
  reason           text        NOT NULL,
  rejected_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bronze_object_id, doc_id)
);
CREATE INDEX IF NOT EXISTS search_rejections_stream ON search_rejections (stream, rejected_at);

COMMENT ON TABLE search_index_state IS 'Per bronze object: the rows_version the search sink indexed; behind when bronze_objects.rows_version is greater';
COMMENT ON TABLE search_rejections IS 'Documents OpenSearch refused, with its reason: never silently dropped (etl search rejected)';
