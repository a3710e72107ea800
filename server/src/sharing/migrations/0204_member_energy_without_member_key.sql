-- sharing (issue 22): member_energy loses its foreign key to members. Its check ran once per
-- written row and was about 40% of the sharing job's write on PGlite (a 200-member day: 19,200
-- checks). Members are never deleted on their own (a departure sets left_at); they go only with
-- their community, and sharing deletes the community's member energy then (durably, on
-- community.deleted), as ingest does with raw readings.
ALTER TABLE member_energy DROP CONSTRAINT member_energy_member_id_fkey;
