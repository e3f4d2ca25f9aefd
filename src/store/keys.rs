//! The key layout of every tree, in one place: the tag bytes that start
//! the keys of each index, the names of the `meta` entries, and one
//! constructor per kind of key. The layout is part of the store format:
//! stores on disk, backups and the golden tests depend on it byte for byte,
//! so a change here is a format change (see `migrate.rs`).
//!
//! Names (clIDs, domain names, contact ids, labels) are written as their
//! UTF-8 bytes; numbers big-endian, so that keys sort in numeric order; a
//! `\0` ends a name that another part follows (no name holds a `\0`).

// ----- meta -----

/// `meta`: the store format (`u32` BE).
pub(super) const META_FORMAT_VERSION: &str = "format_version";
/// `meta`: the number of openings of the store (`u64` BE).
pub(super) const META_BOOT: &str = "boot";
/// `meta`: added to every new roid's number (`u64` BE).
pub(super) const META_ROID_BASE: &str = "roid_base";
/// `meta`: present once the shipped reserved list was loaded.
pub(super) const META_TERMS_SEEDED: &str = "terms_seeded";

/// `meta`: `group_intent:{chunk u32 BE}`, the record of a group of
/// committed changes while it is written to the trees (`sled_group.rs`).
pub(super) const META_GROUP_INTENT: &[u8] = b"group_intent:";

/// `meta`: chunk `chunk` of the group intent.
pub(super) fn group_intent(chunk: u32) -> Vec<u8> {
    let mut key = META_GROUP_INTENT.to_vec();
    key.extend_from_slice(&chunk.to_be_bytes());
    key
}

/// `meta`: the last SOA serial exported for `zone` (`u32` BE).
pub(super) fn zone_serial(zone: &str) -> String {
    format!("zone_serial:{zone}")
}

// ----- refs: the indexes -----

/// `C{contact}\0{domain}`: the contact is used by the domain.
pub(super) const CONTACT_USE: u8 = b'C';
/// `H{host}\0{domain}`: the domain delegates to the host.
pub(super) const HOST_USE: u8 = b'H';
/// `R{registrar}\0{domain}`: the registrar sponsors the domain.
pub(super) const SPONSOR: u8 = b'R';
/// `#c{contact}`, `#h{host}`: how many domains use the object (`u32` BE).
pub(super) const USE_COUNT: u8 = b'#';
/// The second byte of a contact's use count.
pub(super) const USE_COUNT_CONTACT: u8 = b'c';
/// The second byte of a host's use count.
pub(super) const USE_COUNT_HOST: u8 = b'h';
/// `W{kind}{name}`: one item of the waiting list (R20).
pub(super) const WAITING: u8 = b'W';
/// The waiting kind of a create in a restricted zone (R2).
pub(super) const WAITING_CREATE: u8 = b'c';
/// The waiting kind of a change of registrant (R13).
pub(super) const WAITING_OWNER: u8 = b'o';
/// The waiting kind of a transfer rejection under review (R12).
pub(super) const WAITING_REVIEW: u8 = b'r';
/// The waiting kind of an identity document to verify (R15).
pub(super) const WAITING_IDENTITY: u8 = b'i';
/// `N{registrar}\0{YYYY-MM}`: the registrar's creates that month (`i64` BE, R21).
pub(super) const CREATES: u8 = b'N';

/// `{tag}{a}\0{b}`.
fn pair(tag: u8, a: &str, b: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + a.len() + b.len());
    k.push(tag);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k.extend_from_slice(b.as_bytes());
    k
}

/// `{tag}{a}\0`: the prefix of every [`pair`] of `a`.
fn pairs_of(tag: u8, a: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + a.len());
    k.push(tag);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k
}

/// `refs`: `contact` is used by `domain`.
pub(super) fn contact_use(contact: &str, domain: &str) -> Vec<u8> {
    pair(CONTACT_USE, contact, domain)
}

/// `refs`: the prefix of the domains that use `contact`.
pub(super) fn contact_uses(contact: &str) -> Vec<u8> {
    pairs_of(CONTACT_USE, contact)
}

/// `refs`: `domain` delegates to `host`.
pub(super) fn host_use(host: &str, domain: &str) -> Vec<u8> {
    pair(HOST_USE, host, domain)
}

/// `refs`: the prefix of the domains that delegate to `host`.
pub(super) fn host_uses(host: &str) -> Vec<u8> {
    pairs_of(HOST_USE, host)
}

/// `refs`: `registrar` sponsors `domain`.
pub(super) fn sponsored(registrar: &str, domain: &str) -> Vec<u8> {
    pair(SPONSOR, registrar, domain)
}

/// `refs`: the prefix of the domains `registrar` sponsors.
pub(super) fn sponsored_by(registrar: &str) -> Vec<u8> {
    pairs_of(SPONSOR, registrar)
}

/// `#{kind}{id}`.
fn use_count(kind: u8, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + id.len());
    k.push(USE_COUNT);
    k.push(kind);
    k.extend_from_slice(id.as_bytes());
    k
}

/// `refs`: how many domains use the contact `id`.
pub(super) fn use_count_contact(id: &str) -> Vec<u8> {
    use_count(USE_COUNT_CONTACT, id)
}

/// `refs`: how many domains delegate to the host `name`.
pub(super) fn use_count_host(name: &str) -> Vec<u8> {
    use_count(USE_COUNT_HOST, name)
}

/// `refs`: the waiting item of kind `kind` (a `WAITING_*` byte) on `name`.
pub(super) fn waiting(kind: u8, name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + name.len());
    key.push(WAITING);
    key.push(kind);
    key.extend_from_slice(name.as_bytes());
    key
}

/// The kind byte and the name of a [`waiting`] key.
pub(super) fn waiting_parts(key: &[u8]) -> Option<(u8, &[u8])> {
    Some((*key.get(1)?, key.get(2..)?))
}

/// `refs`: the counter of `registrar`'s creates in `month` (`YYYY-MM`).
pub(super) fn creates(registrar: &str, month: &str) -> Vec<u8> {
    pair(CREATES, registrar, month)
}

/// `refs`: the prefix of `registrar`'s monthly create counters.
pub(super) fn creates_of(registrar: &str) -> Vec<u8> {
    pairs_of(CREATES, registrar)
}

// ----- poll and ledger: one sequence per registrar -----

/// `poll`: `#{registrar}` → the length of the registrar's queue (`u64` BE).
pub(super) const POLL_COUNT: u8 = b'#';
/// `ledger`: `#{registrar}` → the registrar's balance (`i64` BE, centimes).
pub(super) const BALANCE: u8 = b'#';

/// `{registrar}\0`: the prefix of a registrar's queue or ledger.
pub(super) fn registrar_seq(registrar: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(registrar.len() + 1);
    k.extend_from_slice(registrar.as_bytes());
    k.push(0);
    k
}

/// `{registrar}\0{n u64 BE}`.
fn registrar_entry(registrar: &str, n: u64) -> Vec<u8> {
    let mut k = registrar_seq(registrar);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// `{tag}{registrar}`.
fn registrar_tagged(tag: u8, registrar: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(registrar.len() + 1);
    k.push(tag);
    k.extend_from_slice(registrar.as_bytes());
    k
}

/// `poll`: the message `id` in `registrar`'s queue.
pub(super) fn poll(registrar: &str, id: u64) -> Vec<u8> {
    registrar_entry(registrar, id)
}

/// The registrar's part of a [`poll`] key.
pub(super) fn poll_registrar(key: &[u8]) -> &[u8] {
    &key[..key.len() - 9]
}

/// `poll`: the length of `registrar`'s queue.
pub(super) fn poll_count(registrar: &str) -> Vec<u8> {
    registrar_tagged(POLL_COUNT, registrar)
}

/// `ledger`: `registrar`'s balance.
pub(super) fn balance(registrar: &str) -> Vec<u8> {
    registrar_tagged(BALANCE, registrar)
}

/// `ledger`: the line `seq` of `registrar`'s ledger.
pub(super) fn ledger_entry(registrar: &str, seq: u64) -> Vec<u8> {
    registrar_entry(registrar, seq)
}

// ----- due: the life-cycle agenda -----

/// The kind byte of a domain transfer's auto-approval (R12).
pub(super) const DUE_TRANSFER_AUTO_APPROVE: u8 = b'T';
/// The kind byte of a contact transfer's auto-approval.
pub(super) const DUE_CONTACT_TRANSFER_AUTO_APPROVE: u8 = b'K';
/// The kind byte of the 30-day expiry notice (R22).
pub(super) const DUE_EXPIRY_NOTICE: u8 = b'N';
/// The kind byte of the end of the renewal grace (R10).
pub(super) const DUE_GRACE_END: u8 = b'G';
/// The kind byte of the purge after redemption (R11).
pub(super) const DUE_PURGE: u8 = b'P';
/// The kind byte of the identity verification deadline (R15).
pub(super) const DUE_IDENTITY_DEADLINE: u8 = b'I';
/// The kind byte of the lapse of an incomplete restricted create (R2).
pub(super) const DUE_CREATE_LAPSE: u8 = b'L';

/// `due`: `{instant ms u64 BE}{kind}{name}`.
pub(super) fn due(ms: u64, kind: u8, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + name.len());
    k.extend_from_slice(&ms.to_be_bytes());
    k.push(kind);
    k.extend_from_slice(name.as_bytes());
    k
}

/// The instant (ms), kind byte and name of a [`due`] key.
pub(super) fn due_parts(k: &[u8]) -> Option<(u64, u8, &[u8])> {
    let ms = u64::from_be_bytes(k.get(..8)?.try_into().ok()?);
    Some((ms, *k.get(8)?, k.get(9..)?))
}

/// `due`: the bound below which every entry is due before instant `ms`.
pub(super) fn due_before(ms: u64) -> Vec<u8> {
    ms.to_be_bytes().to_vec()
}

// ----- names -----

/// `names`: `r{label}` → the category of a reserved label (R4).
pub(super) const RESERVED: u8 = b'r';
/// `names`: `b{label}` → the reason a label is blocked (R5).
pub(super) const BLOCKED: u8 = b'b';
/// `names`: `t{token}` → an allocation token (R4).
pub(super) const TOKEN: u8 = b't';

/// `{tag}{text}`.
fn term(tag: u8, text: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(text.len() + 1);
    k.push(tag);
    k.extend_from_slice(text.as_bytes());
    k
}

/// `names`: a reserved label.
pub(super) fn reserved(label: &str) -> Vec<u8> {
    term(RESERVED, label)
}

/// `names`: a blocked label.
pub(super) fn blocked(label: &str) -> Vec<u8> {
    term(BLOCKED, label)
}

/// `names`: an allocation token.
pub(super) fn token(token: &str) -> Vec<u8> {
    term(TOKEN, token)
}

/// The label or token of a `names` key.
pub(super) fn term_text(key: &[u8]) -> &[u8] {
    &key[1..]
}

// ----- history -----

/// `history`: the chain's head, the last record's place (`u64` BE) and
/// hash. Object keys start with a letter, so these never collide.
pub(super) const CHAIN_HEAD: &[u8] = b"\xff\xffchain-head";
/// `history`: the prefix of the chain's index, place (`u64` BE) → the
/// record's key.
pub(super) const CHAIN_INDEX: u8 = 0xfe;

/// `history`: `{kind}:{name}\0`, the prefix of an object's records.
pub(super) fn history_of(kind: &str, name: &str) -> Vec<u8> {
    let mut k = format!("{kind}:{name}").into_bytes();
    k.push(0);
    k
}

/// `history`: the record `seq` of an object.
pub(super) fn history(kind: &str, name: &str, seq: u64) -> Vec<u8> {
    let mut k = history_of(kind, name);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `history`: the index entry of the chain's place `place`.
pub(super) fn chain_index(place: u64) -> [u8; 9] {
    let mut key = [CHAIN_INDEX; 9];
    key[1..].copy_from_slice(&place.to_be_bytes());
    key
}

/// The place of a [`chain_index`] key (0 when it is malformed).
pub(super) fn chain_place(key: &[u8]) -> u64 {
    key.get(1..9)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_layout_is_pinned_byte_for_byte() {
        assert_eq!(contact_use("c1", "a.ma"), b"Cc1\0a.ma");
        assert_eq!(contact_uses("c1"), b"Cc1\0");
        assert_eq!(host_use("ns.b.ma", "a.ma"), b"Hns.b.ma\0a.ma");
        assert_eq!(host_uses("ns.b.ma"), b"Hns.b.ma\0");
        assert_eq!(sponsored("reg1", "a.ma"), b"Rreg1\0a.ma");
        assert_eq!(sponsored_by("reg1"), b"Rreg1\0");
        assert_eq!(use_count_contact("c1"), b"#cc1");
        assert_eq!(use_count_host("ns.b.ma"), b"#hns.b.ma");
        assert_eq!(waiting(WAITING_OWNER, "a.ma"), b"Woa.ma");
        assert_eq!(waiting_parts(b"Woa.ma"), Some((b'o', &b"a.ma"[..])));
        assert_eq!(creates("reg1", "2024-05"), b"Nreg1\x002024-05");
        assert_eq!(creates_of("reg1"), b"Nreg1\0");
        assert_eq!(poll("reg1", 258), b"reg1\0\0\0\0\0\0\0\x01\x02");
        assert_eq!(poll_registrar(&poll("reg1", 258)), b"reg1");
        assert_eq!(poll_count("reg1"), b"#reg1");
        assert_eq!(balance("reg1"), b"#reg1");
        assert_eq!(ledger_entry("reg1", 7), b"reg1\0\0\0\0\0\0\0\0\x07");
        assert_eq!(registrar_seq("reg1"), b"reg1\0");
        let due_key = due(0x0102, DUE_GRACE_END, "a.ma");
        assert_eq!(due_key, b"\0\0\0\0\0\0\x01\x02Ga.ma");
        assert_eq!(due_parts(&due_key), Some((0x0102, b'G', &b"a.ma"[..])));
        assert_eq!(due_before(3), b"\0\0\0\0\0\0\0\x03");
        assert_eq!(reserved("nic"), b"rnic");
        assert_eq!(blocked("nic"), b"bnic");
        assert_eq!(token("abc"), b"tabc");
        assert_eq!(term_text(b"tabc"), b"abc");
        assert_eq!(
            history("domain", "a.ma", 5),
            b"domain:a.ma\0\0\0\0\0\0\0\0\x05"
        );
        assert_eq!(history_of("host", "ns.b.ma"), b"host:ns.b.ma\0");
        assert_eq!(chain_index(1), *b"\xfe\0\0\0\0\0\0\0\x01");
        assert_eq!(chain_place(&chain_index(300)), 300);
        assert_eq!(CHAIN_HEAD, b"\xff\xffchain-head");
        assert_eq!(zone_serial("ma"), "zone_serial:ma");
        assert_eq!(group_intent(2), b"group_intent:\0\0\0\x02");
        assert_eq!(
            [
                META_FORMAT_VERSION,
                META_BOOT,
                META_ROID_BASE,
                META_TERMS_SEEDED
            ],
            ["format_version", "boot", "roid_base", "terms_seeded"]
        );
        let kinds = [
            DUE_TRANSFER_AUTO_APPROVE,
            DUE_CONTACT_TRANSFER_AUTO_APPROVE,
            DUE_EXPIRY_NOTICE,
            DUE_GRACE_END,
            DUE_PURGE,
            DUE_IDENTITY_DEADLINE,
            DUE_CREATE_LAPSE,
        ];
        assert_eq!(kinds, *b"TKNGPIL");
        let waiting_kinds = [
            WAITING_CREATE,
            WAITING_OWNER,
            WAITING_REVIEW,
            WAITING_IDENTITY,
        ];
        assert_eq!(waiting_kinds, *b"cori");
    }
}
