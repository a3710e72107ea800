-- No query reads readings by community: the live stream is fed from memory and everything
-- per community goes through intervals (which keep their own community index). Every ingested
-- row paid for this index (one of three B-trees per row).
DROP INDEX readings_community_ts_idx;
