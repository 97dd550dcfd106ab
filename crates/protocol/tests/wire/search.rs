//! `search` and `history` with `around` (issue 20): their JSON and their validation.

use super::*;

#[test]
fn search_with_every_field() {
    let req = Search {
        query: "東京 lunch".into(),
        room_id: Some("general".into()),
        limit: Some(10),
        cursor: Some("4711".into()),
    };
    assert_request(
        "search",
        &req,
        json!({"query": "東京 lunch", "room_id": "general", "limit": 10, "cursor": "4711"}),
    );
    assert_ok_ack::<Search>(
        SearchAck {
            messages: vec![message()],
            next_cursor: Some("4700".into()),
        },
        json!({"ok": true, "messages": [message_json()], "next_cursor": "4700"}),
    );
}

#[test]
fn search_optional_fields_are_omitted_and_may_be_null() {
    let bare = Search {
        query: "cat".into(),
        room_id: None,
        limit: None,
        cursor: None,
    };
    assert_wire(&bare, json!({"query": "cat"}));
    let nulls: Search = serde_json::from_value(
        json!({"query": "cat", "room_id": null, "limit": null, "cursor": null}),
    )
    .expect("null optional fields are accepted");
    assert_eq!(nulls, bare);
    // The last page has no cursor.
    assert_ok_ack::<Search>(
        SearchAck {
            messages: vec![],
            next_cursor: None,
        },
        json!({"ok": true, "messages": []}),
    );
}

#[test]
fn search_validates() {
    let ok = Search {
        query: "cat".into(),
        room_id: None,
        limit: Some(u32::MAX),
        cursor: None,
    };
    assert_valid(ok.validate());
    // One character is a query (CJK words are often one or two).
    assert_valid(
        Search {
            query: "猫".into(),
            ..ok.clone()
        }
        .validate(),
    );
    for blank in ["", "  ", "\t\n"] {
        assert_code(
            Search {
                query: blank.into(),
                ..ok.clone()
            }
            .validate(),
            ErrorCode::Invalid,
        );
    }
    assert_code(
        Search {
            query: "a\u{0}b".into(),
            ..ok.clone()
        }
        .validate(),
        ErrorCode::Invalid,
    );
    assert_valid(
        Search {
            query: "猫".repeat(200),
            ..ok.clone()
        }
        .validate(),
    );
    assert_code(
        Search {
            query: "猫".repeat(201),
            ..ok.clone()
        }
        .validate(),
        ErrorCode::TooLarge,
    );
    assert_code(
        Search {
            room_id: Some(String::new()),
            ..ok.clone()
        }
        .validate(),
        ErrorCode::Invalid,
    );
    assert_code(
        Search {
            cursor: Some("x".repeat(65)),
            ..ok
        }
        .validate(),
        ErrorCode::Invalid,
    );
}

#[test]
fn history_around_a_seq() {
    let req = History {
        room_id: "general".into(),
        before_seq: None,
        limit: Some(40),
        around: Some(1234),
        ..Default::default()
    };
    assert_request(
        "history",
        &req,
        json!({"room_id": "general", "limit": 40, "around": 1234}),
    );
    assert_valid(req.validate());
    assert_code(
        History {
            around: Some(-1),
            ..req.clone()
        }
        .validate(),
        ErrorCode::Invalid,
    );
    // One or the other: a page before a seq, or the messages around one.
    assert_code(
        History {
            before_seq: Some(10),
            ..req
        }
        .validate(),
        ErrorCode::Invalid,
    );
}

#[test]
fn a_query_is_its_whitespace_separated_terms_each_once() {
    assert_eq!(
        natter_protocol::search::terms("  lunch\t東京 lunch\n🎉"),
        ["lunch", "東京", "🎉"]
    );
    assert!(natter_protocol::search::terms(" \n").is_empty());
}
