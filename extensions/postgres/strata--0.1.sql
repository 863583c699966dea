-- strata 0.1: SQL functions over strata collections (see docs/embedding.md).
\echo Use "CREATE EXTENSION strata" to load this file. \quit

-- The k nearest live vectors of `collection` to `query`, closest first.
CREATE FUNCTION strata_search(collection text, query real[], k int, search_list int DEFAULT 100)
RETURNS TABLE(id bigint, distance real)
AS 'MODULE_PATHNAME', 'strata_pg_search' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE ROWS 10;

-- Writes one vector under `id` (replacing it). Durable on return; NOT undone by ROLLBACK.
CREATE FUNCTION strata_upsert(collection text, id bigint, vector real[]) RETURNS void
AS 'MODULE_PATHNAME', 'strata_pg_upsert' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- Writes a batch: ids[i] gets row i of the 2-D array vectors (one log record, one fsync).
CREATE FUNCTION strata_upsert(collection text, ids bigint[], vectors real[]) RETURNS void
AS 'MODULE_PATHNAME', 'strata_pg_upsert_batch' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- Deletes ids (absent ones are ignored). Durable on return; NOT undone by ROLLBACK.
CREATE FUNCTION strata_delete(collection text, id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'strata_pg_delete' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION strata_delete(collection text, ids bigint[]) RETURNS void
AS 'MODULE_PATHNAME', 'strata_pg_delete_batch' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- Creates an empty collection under strata.data_dir.
CREATE FUNCTION strata_create(collection text, dim int, metric text DEFAULT 'l2') RETURNS void
AS 'MODULE_PATHNAME', 'strata_pg_create' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- Folds the hot tier into a new disk generation now; true when a new generation was swapped in.
CREATE FUNCTION strata_consolidate(collection text) RETURNS boolean
AS 'MODULE_PATHNAME', 'strata_pg_consolidate' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION strata_stats(collection text, OUT dim int, OUT live bigint, OUT generation bigint,
                             OUT hot bigint, OUT wal_bytes bigint)
AS 'MODULE_PATHNAME', 'strata_pg_stats' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- Closes this backend's handle on the collection (releasing it to other backends); false when
-- it was not open here.
CREATE FUNCTION strata_close(collection text) RETURNS boolean
AS 'MODULE_PATHNAME', 'strata_pg_close' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

-- A little-endian f32 blob (as stored in .fbin files or sent by clients) as real[].
CREATE FUNCTION strata_vector(blob bytea) RETURNS real[]
AS 'MODULE_PATHNAME', 'strata_pg_vector' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION strata_version() RETURNS text
AS 'MODULE_PATHNAME', 'strata_pg_version' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- Writes bypass transactions: only superusers may call them unless granted.
REVOKE ALL ON FUNCTION strata_upsert(text, bigint, real[]), strata_upsert(text, bigint[], real[]),
  strata_delete(text, bigint), strata_delete(text, bigint[]), strata_create(text, int, text),
  strata_consolidate(text) FROM PUBLIC;
