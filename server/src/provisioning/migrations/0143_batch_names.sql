-- Batches get a name people recognise them by (on lists, in the API, on the sticker sheet).
-- Existing batches are numbered per community in the order they were made, as new ones are.
ALTER TABLE device_batches ADD COLUMN name text;
UPDATE device_batches b
   SET name = CASE WHEN c.locale LIKE 'de%' THEN 'Charge ' ELSE 'Batch ' END || n.number
  FROM (SELECT id, row_number() OVER (PARTITION BY community_id ORDER BY created_at, id) AS number FROM device_batches) n,
       communities c
 WHERE n.id = b.id AND c.id = b.community_id;
ALTER TABLE device_batches ALTER COLUMN name SET NOT NULL;
ALTER TABLE device_batches ADD CONSTRAINT device_batches_name_length CHECK (char_length(name) BETWEEN 1 AND 80);
