-- Direct FlexOrders (issue 18, UFTP 3.1: a FlexOrder with Unsolicited=true and no FlexOffer): a term of
-- the contract. Without it such an order is rejected "Direct FlexOrder not agreed"; with it, the
-- D-Prognosis the DSO accepted is the order's baseline.
ALTER TABLE flex_contracts ADD COLUMN direct_orders boolean NOT NULL DEFAULT false;
