-- Device ids and quantity names are ASCII identifiers: compare them as bytes ("C"), not by the
-- database's locale. Every reading descends two btrees keyed by them, so locale-aware comparison
-- is a measurable part of ingest CPU. Order and equality are unchanged for these values.
ALTER TABLE readings ALTER COLUMN device_id TYPE text COLLATE "C", ALTER COLUMN quantity TYPE text COLLATE "C";
