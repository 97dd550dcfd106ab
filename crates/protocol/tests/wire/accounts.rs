//! Admin and self-service requests (`admin`, `account`), registration with an invite, and the
//! invite string.

use natter_protocol::account::{
    ChangePassword, DeleteAccount, EndSession, ListSessions, OwnAccount, SessionInfo,
    SetDisplayName,
};
use natter_protocol::admin::{
    self, Account, AccountAck, CreateInvite, DemoteUser, Invite, InviteAck, ListUsers, PasswordAck,
    ResetPassword, Role, Target,
};
use natter_protocol::http::Registration;
use natter_protocol::invite::InviteLink;

use super::*;

fn target() -> Target {
    Target {
        username: "bob".into(),
    }
}

#[test]
fn admin_requests_on_the_wire() {
    assert_request(
        "admin:invite:create",
        &CreateInvite {
            uses: 3,
            expires_in_secs: Some(3600),
            role: Role::Admin,
        },
        json!({"uses": 3, "expires_in_secs": 3600, "role": "admin"}),
    );
    // Defaults: one use, no expiry, a member.
    let bare: CreateInvite = serde_json::from_value(json!({})).expect("defaults");
    assert_eq!(
        (bare.uses, bare.expires_in_secs, bare.role),
        (1, None, Role::Member)
    );
    assert_request(
        "admin:user:demote",
        &DemoteUser(target()),
        json!({"username": "bob"}),
    );
    // Older clients send no password (a random one is made); a chosen one rides along.
    assert_request(
        "admin:user:reset_password",
        &ResetPassword {
            username: "bob".into(),
            password: None,
        },
        json!({"username": "bob"}),
    );
    assert_request(
        "admin:user:reset_password",
        &ResetPassword {
            username: "bob".into(),
            password: Some("chosen-secret".into()),
        },
        json!({"username": "bob", "password": "chosen-secret"}),
    );
    assert_request(
        "admin:users:list",
        &ListUsers {
            after: Some("alice".into()),
            limit: Some(10),
        },
        json!({"after": "alice", "limit": 10}),
    );
}

#[test]
fn admin_acks_on_the_wire() {
    let invite = Invite {
        id: "i-1".into(),
        role: Role::Member,
        uses: 2,
        used: 1,
        expires_at: None,
        created_at: "2026-01-01T00:00:00.000Z".into(),
        created_by: Some("root".into()),
        revoked: false,
    };
    assert_ok_ack::<CreateInvite>(
        InviteAck {
            invite,
            code: "c0de".into(),
            link: "natter://invite?server=http%3A%2F%2Fh&code=c0de".into(),
        },
        json!({"ok": true, "invite": {"id": "i-1", "role": "member", "uses": 2, "used": 1,
            "created_at": "2026-01-01T00:00:00.000Z", "created_by": "root"},
            "code": "c0de", "link": "natter://invite?server=http%3A%2F%2Fh&code=c0de"}),
    );
    let account = Account {
        user: User {
            id: "u-2".into(),
            username: "bob".into(),
            ..User::default()
        },
        role: Role::Admin,
        disabled: true,
        created_at: "2026-01-01T00:00:00.000Z".into(),
        last_seen: None,
    };
    assert_wire(
        &account,
        json!({"user": {"id": "u-2", "username": "bob"}, "role": "admin", "disabled": true,
            "created_at": "2026-01-01T00:00:00.000Z"}),
    );
}

#[test]
fn own_account_tells_the_role() {
    assert_request("account:me", &OwnAccount {}, json!({}));
    let account = Account {
        user: User {
            id: "u-1".into(),
            username: "alice".into(),
            display_name: "Alice".into(),
        },
        role: Role::Admin,
        disabled: false,
        created_at: "2026-01-01T00:00:00.000Z".into(),
        last_seen: None,
    };
    assert_ok_ack::<OwnAccount>(
        AccountAck { account },
        json!({"ok": true, "account": {"user": {"id": "u-1", "username": "alice",
            "display_name": "Alice"}, "role": "admin",
            "created_at": "2026-01-01T00:00:00.000Z"}}),
    );
    assert!(natter_protocol::account::NAMES.contains(&"account:me"));
}

#[test]
fn admin_requests_are_validated() {
    let invite = |uses, expires_in_secs| CreateInvite {
        uses,
        expires_in_secs,
        role: Role::Member,
    };
    assert_valid(invite(1, None).validate());
    assert_code(invite(0, None).validate(), ErrorCode::Invalid);
    assert_code(invite(10_001, None).validate(), ErrorCode::Invalid);
    assert_code(invite(1, Some(0)).validate(), ErrorCode::Invalid);
    assert_code(invite(1, Some(400 * 86_400)).validate(), ErrorCode::Invalid);
    let bad = Target {
        username: "no spaces".into(),
    };
    assert_code(DemoteUser(bad).validate(), ErrorCode::NotFound);
    let reset = |password: Option<&str>| ResetPassword {
        username: "bob".into(),
        password: password.map(str::to_owned),
    };
    assert_valid(reset(None).validate());
    assert_valid(reset(Some("chosen-secret")).validate());
    // A chosen password is held to a registration's rules.
    assert_code(reset(Some("short")).validate(), ErrorCode::Invalid);
    assert_code(
        reset(Some(&"x".repeat(1025))).validate(),
        ErrorCode::Invalid,
    );
    assert_eq!(admin::NAMES.len(), 10);
    for name in admin::NAMES {
        assert!(name.starts_with("admin:"), "{name}");
        assert!(natter_protocol::requests::NAMES.contains(&name), "{name}");
    }
}

#[test]
fn self_service_on_the_wire_and_secrets_stay_out_of_debug() {
    let change = ChangePassword {
        current: "old-secret-1".into(),
        new: "new-secret-2".into(),
    };
    assert_request(
        "account:password",
        &change,
        json!({"current": "old-secret-1", "new": "new-secret-2"}),
    );
    assert_code(
        ChangePassword {
            current: "x".into(),
            new: "short".into(),
        }
        .validate(),
        ErrorCode::Invalid,
    );
    let delete = DeleteAccount {
        password: "old-secret-1".into(),
    };
    let reset = PasswordAck {
        password: "generated-3".into(),
    };
    let chosen = ResetPassword {
        username: "bob".into(),
        password: Some("chosen-secret-4".into()),
    };
    for debug in [
        format!("{change:?}"),
        format!("{delete:?}"),
        format!("{reset:?}"),
        format!("{chosen:?}"),
    ] {
        assert!(
            !debug.contains("secret") && !debug.contains("generated"),
            "{debug}"
        );
    }
    assert_request("account:sessions", &ListSessions {}, json!({}));
    assert_request(
        "account:session:end",
        &EndSession {
            session_id: "s-1".into(),
        },
        json!({"session_id": "s-1"}),
    );
    assert_wire(
        &SessionInfo {
            id: "s-1".into(),
            device: "natter-desktop".into(),
            created_at: "a".into(),
            last_used_at: "b".into(),
            current: true,
        },
        json!({"id": "s-1", "device": "natter-desktop", "created_at": "a",
            "last_used_at": "b", "current": true}),
    );
    let name = |n: &str| SetDisplayName {
        display_name: n.into(),
    };
    assert_valid(name("").validate());
    assert_valid(name("Alice Liddell 🐇").validate());
    assert_code(name("   ").validate(), ErrorCode::Invalid);
    assert_code(name("a\u{202E}b").validate(), ErrorCode::Invalid);
    assert_code(name("line\nbreak").validate(), ErrorCode::Invalid);
    assert_code(name(&"x".repeat(65)).validate(), ErrorCode::Invalid);
}

#[test]
fn registration_carries_an_invite_and_reads_without_one() {
    let with = Registration {
        username: "alice".into(),
        password: "hunter2hunter2".into(),
        invite: Some("c0de".into()),
    };
    assert_wire(
        &with,
        json!({"username": "alice", "password": "hunter2hunter2", "invite": "c0de"}),
    );
    let without: Registration =
        serde_json::from_value(json!({"username": "alice", "password": "hunter2hunter2"}))
            .expect("no invite");
    assert_eq!(without.invite, None);
    let debug = format!("{with:?}");
    assert!(
        !debug.contains("c0de") && !debug.contains("hunter2"),
        "{debug}"
    );
}

#[test]
fn the_invite_string_carries_server_and_code() {
    let link = InviteLink {
        server: "http://127.0.0.1:7447".into(),
        code: "0123abcd".into(),
    };
    let text = link.format();
    assert!(text.starts_with("natter://invite?"), "{text}");
    assert_eq!(InviteLink::parse(&text), Some(link));
    assert_eq!(natter_protocol::invite::code_of(&text), "0123abcd");
    assert_eq!(InviteLink::parse("0123abcd"), None);
}
