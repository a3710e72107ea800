-- Tables other tables reference by their own id alone now carry community_id in their primary key,
-- and every reference to them includes it on both sides (issue 22; 0160 did the tables nobody
-- references). Citus requires both of a table distributed by community_id; the database now also
-- enforces what the code already kept: a row references rows of its own community only.
--
-- The id stays the key's first column, so every lookup by id keeps its index. A reference that
-- is cleared when its target goes (ON DELETE SET NULL) clears only its own column: community_id
-- is the row's own and never null.

ALTER TABLE allocation_coefficients DROP CONSTRAINT allocation_coefficients_member_id_fkey;
ALTER TABLE allocation_shares DROP CONSTRAINT allocation_shares_member_id_fkey;
ALTER TABLE billing_details DROP CONSTRAINT billing_details_member_id_fkey;
ALTER TABLE claim_codes DROP CONSTRAINT claim_codes_used_by_fkey;
ALTER TABLE member_energy DROP CONSTRAINT member_energy_member_id_fkey;
ALTER TABLE metering_points DROP CONSTRAINT metering_points_member_id_fkey;
ALTER TABLE sepa_mandates DROP CONSTRAINT sepa_mandates_member_id_fkey;
ALTER TABLE members DROP CONSTRAINT members_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE allocation_coefficients ADD CONSTRAINT allocation_coefficients_member_id_fkey
  FOREIGN KEY (member_id, community_id) REFERENCES members (id, community_id) ON DELETE CASCADE;
ALTER TABLE allocation_shares ADD CONSTRAINT allocation_shares_member_id_fkey
  FOREIGN KEY (member_id, community_id) REFERENCES members (id, community_id) ON DELETE CASCADE;
ALTER TABLE billing_details ADD CONSTRAINT billing_details_member_id_fkey
  FOREIGN KEY (member_id, community_id) REFERENCES members (id, community_id) ON DELETE CASCADE;
ALTER TABLE claim_codes ADD CONSTRAINT claim_codes_used_by_fkey
  FOREIGN KEY (used_by, community_id) REFERENCES members (id, community_id) ON DELETE SET NULL (used_by);
ALTER TABLE member_energy ADD CONSTRAINT member_energy_member_id_fkey
  FOREIGN KEY (member_id, community_id) REFERENCES members (id, community_id) ON DELETE CASCADE;
ALTER TABLE metering_points ADD CONSTRAINT metering_points_member_id_fkey
  FOREIGN KEY (member_id, community_id) REFERENCES members (id, community_id) ON DELETE CASCADE;
ALTER TABLE sepa_mandates ADD CONSTRAINT sepa_mandates_member_id_fkey
  FOREIGN KEY (member_id, community_id) REFERENCES members (id, community_id) ON DELETE CASCADE;

ALTER TABLE statements DROP CONSTRAINT statements_settlement_id_fkey;
ALTER TABLE settlements DROP CONSTRAINT settlements_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE statements ADD CONSTRAINT statements_settlement_id_fkey
  FOREIGN KEY (settlement_id, community_id) REFERENCES settlements (id, community_id) ON DELETE CASCADE;

ALTER TABLE devices DROP CONSTRAINT devices_batch_id_fkey;
ALTER TABLE device_batches DROP CONSTRAINT device_batches_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE devices ADD CONSTRAINT devices_batch_id_fkey
  FOREIGN KEY (batch_id, community_id) REFERENCES device_batches (id, community_id) ON DELETE SET NULL (batch_id);

-- consent_recipient_tokens stays keyed by its grant (see the distribution-key test's pending list);
-- its reference to the grant can carry the community already.
ALTER TABLE consent_recipient_tokens DROP CONSTRAINT consent_recipient_tokens_grant_id_fkey;
ALTER TABLE consent_grants DROP CONSTRAINT consent_grants_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE consent_recipient_tokens ADD CONSTRAINT consent_recipient_tokens_grant_id_fkey
  FOREIGN KEY (grant_id, community_id) REFERENCES consent_grants (id, community_id) ON DELETE CASCADE;

ALTER TABLE flex_messages DROP CONSTRAINT flex_messages_duplicate_of_fkey, DROP CONSTRAINT flex_messages_in_reply_to_fkey;
ALTER TABLE flex_order_settlements DROP CONSTRAINT flex_order_settlements_settlement_id_fkey;
ALTER TABLE flex_outbox DROP CONSTRAINT flex_outbox_message_id_fkey;
ALTER TABLE flex_messages DROP CONSTRAINT flex_messages_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE flex_messages
  ADD CONSTRAINT flex_messages_duplicate_of_fkey
    FOREIGN KEY (duplicate_of, community_id) REFERENCES flex_messages (id, community_id) ON DELETE CASCADE,
  ADD CONSTRAINT flex_messages_in_reply_to_fkey
    FOREIGN KEY (in_reply_to, community_id) REFERENCES flex_messages (id, community_id) ON DELETE CASCADE;
ALTER TABLE flex_order_settlements ADD CONSTRAINT flex_order_settlements_settlement_id_fkey
  FOREIGN KEY (settlement_id, community_id) REFERENCES flex_messages (id, community_id) ON DELETE CASCADE;
ALTER TABLE flex_outbox ADD CONSTRAINT flex_outbox_message_id_fkey
  FOREIGN KEY (message_id, community_id) REFERENCES flex_messages (id, community_id) ON DELETE CASCADE;

ALTER TABLE flex_rewards DROP CONSTRAINT flex_rewards_order_settlement_id_fkey;
ALTER TABLE flex_order_settlements DROP CONSTRAINT flex_order_settlements_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE flex_rewards ADD CONSTRAINT flex_rewards_order_settlement_id_fkey
  FOREIGN KEY (order_settlement_id, community_id) REFERENCES flex_order_settlements (id, community_id) ON DELETE CASCADE;

ALTER TABLE flex_contract_devices DROP CONSTRAINT flex_contract_devices_contract_id_fkey;
ALTER TABLE flex_offers DROP CONSTRAINT flex_offers_contract_id_fkey;
ALTER TABLE flex_contracts DROP CONSTRAINT flex_contracts_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE flex_contract_devices ADD CONSTRAINT flex_contract_devices_contract_id_fkey
  FOREIGN KEY (contract_id, community_id) REFERENCES flex_contracts (id, community_id) ON DELETE CASCADE;
ALTER TABLE flex_offers ADD CONSTRAINT flex_offers_contract_id_fkey
  FOREIGN KEY (contract_id, community_id) REFERENCES flex_contracts (id, community_id);

ALTER TABLE flex_congestion_points DROP CONSTRAINT flex_congestion_points_participant_id_fkey;
ALTER TABLE flex_contracts DROP CONSTRAINT flex_contracts_participant_id_fkey;
ALTER TABLE flex_prognoses DROP CONSTRAINT flex_prognoses_participant_id_fkey;
ALTER TABLE flex_participants DROP CONSTRAINT flex_participants_pkey, ADD PRIMARY KEY (id, community_id);
ALTER TABLE flex_congestion_points ADD CONSTRAINT flex_congestion_points_participant_id_fkey
  FOREIGN KEY (participant_id, community_id) REFERENCES flex_participants (id, community_id) ON DELETE CASCADE;
ALTER TABLE flex_contracts ADD CONSTRAINT flex_contracts_participant_id_fkey
  FOREIGN KEY (participant_id, community_id) REFERENCES flex_participants (id, community_id);
ALTER TABLE flex_prognoses ADD CONSTRAINT flex_prognoses_participant_id_fkey
  FOREIGN KEY (participant_id, community_id) REFERENCES flex_participants (id, community_id) ON DELETE CASCADE;
