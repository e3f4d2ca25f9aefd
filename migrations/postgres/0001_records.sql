-- The registry's store: every tree of the storage interface is the range
-- of rows with its name in `tree`, ordered by `key` compared as bytes.
-- Values are the registry's own record encoding (a version byte, then
-- postcard), so the server is the one reader and writer of this table.
CREATE TABLE records (
    tree  text COLLATE "C" NOT NULL,
    key   bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tree, key)
);

-- Object ids, ledger and history sequence numbers: never given twice
-- (from 0, as the embedded store counts).
CREATE SEQUENCE record_ids MINVALUE 0 START WITH 0;
