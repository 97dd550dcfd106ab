//! The limits (`limits`); docs/protocol.md quotes these values.

use natter_protocol::limits::*;

#[test]
fn values_match_the_docs() {
    assert_eq!(MAX_BODY_CHARS, 4_000);
    assert_eq!(MAX_PAYLOAD_BYTES, 65_536);
    assert_eq!(USERNAME_MIN_CHARS, 3);
    assert_eq!(USERNAME_MAX_CHARS, 32);
    assert_eq!(PASSWORD_MIN_CHARS, 8);
    assert_eq!(PASSWORD_MAX_CHARS, 1_024);
    assert_eq!(ROOM_NAME_MAX_CHARS, 64);
    assert_eq!(MAX_CREATE_MEMBERS, 256);
    assert_eq!(MAX_ID_CHARS, 64);
    assert_eq!(MAX_SYNC_CURSORS, 500);
    assert_eq!(HISTORY_DEFAULT_LIMIT, 50);
    assert_eq!(HISTORY_MAX_LIMIT, 100);
    assert_eq!(UNREAD_MAX, 1_000);
    assert_eq!(SYNC_PAGE_MESSAGES, 200);
    assert_eq!(SYNC_PAGE_BYTES, 262_144);
    assert_eq!(SEND_BURST, 30);
    assert_eq!(SEND_PER_SECOND, 10);
    assert_eq!(TYPING_PER_SECOND, 5);
    assert_eq!(ROOM_CHANGES_PER_MINUTE, 30);
    assert_eq!(CONNECTS_PER_MINUTE, 30);
    assert_eq!(CONNECTS_PER_MINUTE_PER_ADDRESS, 120);
    assert_eq!(PRESENCE_GRACE_MS, 3_000);
    assert_eq!(MAX_ROOMS_PER_USER, 500);
    assert_eq!(MAX_BLOCKED, 1_000);
    assert_eq!(SEARCH_QUERY_MAX_CHARS, 200);
    assert_eq!(SEARCH_DEFAULT_LIMIT, 20);
    assert_eq!(SEARCH_MAX_LIMIT, 50);
}

#[test]
fn a_full_body_fits_a_sync_page_and_a_payload() {
    // A maximal body of 4-byte characters fits one payload, and one sync page, so a sync
    // page always holds at least one message and catch-up cannot stall.
    const { assert!(MAX_BODY_CHARS * 4 < MAX_PAYLOAD_BYTES) };
    const { assert!(MAX_BODY_CHARS * 4 < SYNC_PAGE_BYTES) };
    const { assert!(HISTORY_DEFAULT_LIMIT <= HISTORY_MAX_LIMIT) };
    // A user in every room they may be in can sync them all in one request.
    const { assert!(MAX_ROOMS_PER_USER as usize <= MAX_SYNC_CURSORS) };
}
