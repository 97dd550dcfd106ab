//! Who may come in (issue 18): registration by policy and invite, the first admin, invites'
//! uses and expiry (and a race for the last use), admins disabling, resetting, promoting,
//! demoting and deleting, members refused every admin request, and self-service.

use std::time::{Duration, Instant};

use natter_protocol::account::{
    ChangePassword, DeleteAccount, EndSession, ListSessions, OwnAccount, SetDisplayName,
};
use natter_protocol::admin::{
    self, CreateInvite, DeleteUser, DemoteUser, DisableUser, EnableUser, ListInvites, ListUsers,
    PromoteUser, ResetPassword, RevokeInvite, Role, Target,
};
use natter_protocol::invite::InviteLink;
use natter_protocol::{Empty, ErrorCode};
use natter_relay::config::Registration;
use serde_json::{json, Value};

use crate::util::*;

/// A relay with the default policy (`invite`) and an admin, `root`, registered with the
/// first-admin invite from the data directory; root's connected client.
async fn relay_with_admin() -> (TestRelay, Client) {
    let relay = TestRelay::start_with(|c| c.registration = Registration::Invite).await;
    let link = first_admin_link(&relay);
    let root = relay
        .register_invited("root", PASSWORD, &link)
        .await
        .expect("the first-admin invite registers root");
    let client = relay
        .connect("root", &root.token)
        .await
        .expect("root connects");
    (relay, client)
}

fn first_admin_link(relay: &TestRelay) -> String {
    let path = relay.data_dir().join(natter_relay::FIRST_ADMIN_FILE);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_owned()
}

fn target(name: &str) -> Target {
    Target {
        username: name.to_owned(),
    }
}

/// An invite's code, made by `admin`.
async fn invite(admin: &Client, uses: u32, expires_in_secs: Option<u64>) -> String {
    admin
        .request(&CreateInvite {
            uses,
            expires_in_secs,
            role: Role::Member,
        })
        .await
        .expect("an admin makes an invite")
        .code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_relay_writes_a_private_first_admin_invite_and_it_makes_an_admin_once() {
    let dir = tempfile::tempdir().expect("a data dir");
    let invite_only = |c: &mut natter_relay::Config| c.registration = Registration::Invite;
    let relay = TestRelay::at_with(dir.path(), loopback(), invite_only).await;
    let path = relay.data_dir().join(natter_relay::FIRST_ADMIN_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path)
            .expect("the file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
    let link = first_admin_link(&relay);
    let parsed = InviteLink::parse(&link).expect("an invite string");
    assert_eq!(parsed.server, relay.url());
    // Without an invite: refused, the same whether the name exists or not.
    let none = relay
        .register("root", PASSWORD)
        .await
        .expect_err("no invite");
    assert_eq!(
        (none.status, none.code()),
        (403, Some(ErrorCode::Forbidden))
    );
    let root = relay
        .register_invited("root", PASSWORD, &link)
        .await
        .expect("root registers with it");
    let again = relay
        .register_invited("root2", PASSWORD, &parsed.code)
        .await
        .expect_err("single use");
    assert_eq!(again.code(), Some(ErrorCode::Forbidden));
    let client = relay.connect("root", &root.token).await.expect("connects");
    let users = client
        .request(&ListUsers::default())
        .await
        .expect("root is an admin");
    assert_eq!(users.users.len(), 1);
    assert_eq!(users.users[0].role, Role::Admin);
    // A relay that has users makes no new one at its next start.
    std::fs::remove_file(&path).expect("remove");
    drop(client);
    relay.stop().await;
    let again = TestRelay::at_with(dir.path(), loopback(), invite_only).await;
    assert!(
        !path.exists(),
        "a relay with users wrote a first-admin invite"
    );
    again.stop().await;
}

fn loopback() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_without_a_valid_invite_never_tells_whether_a_name_exists() {
    let (relay, root) = relay_with_admin().await;
    for name in ["root", "nobody_here"] {
        for invite in [None, Some("0123456789abcdef"), Some("not a code!")] {
            let f = match invite {
                None => relay.register(name, PASSWORD).await,
                Some(code) => relay.register_invited(name, PASSWORD, code).await,
            }
            .expect_err("refused");
            assert_eq!(f.status, 403, "{name} {invite:?}: {:?}", f.body);
            let message = f.body["error"]["message"].as_str().unwrap_or_default();
            assert!(!message.contains("taken"), "{message}");
        }
    }
    // With a valid one, a taken name is said so, and the use is not spent.
    let code = invite(&root, 1, None).await;
    let taken = relay
        .register_invited("ROOT", PASSWORD, &code)
        .await
        .expect_err("taken");
    assert_eq!(taken.status, 409);
    relay
        .register_invited("alice", PASSWORD, &code)
        .await
        .expect("the use was not spent on the taken name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_admits_its_uses_until_it_expires_or_is_revoked() {
    let (relay, root) = relay_with_admin().await;
    let code = invite(&root, 2, None).await;
    for name in ["alice", "bob"] {
        relay
            .register_invited(name, PASSWORD, &code)
            .await
            .unwrap_or_else(|f| panic!("{name}: {f:?}"));
    }
    let past = relay
        .register_invited("carol", PASSWORD, &code)
        .await
        .expect_err("past its uses");
    assert_eq!(past.code(), Some(ErrorCode::Forbidden));

    let short = invite(&root, 5, Some(1)).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let expired = relay
        .register_invited("carol", PASSWORD, &short)
        .await
        .expect_err("after its expiry");
    assert_eq!(expired.code(), Some(ErrorCode::Forbidden));

    let made = root
        .request(&CreateInvite {
            uses: 5,
            expires_in_secs: None,
            role: Role::Member,
        })
        .await
        .expect("invite");
    let link = InviteLink::parse(&made.link).expect("the ack's invite string parses");
    assert_eq!(link.code, made.code);
    assert_eq!(link.server, relay.url(), "the address the admin reached");
    root.request(&RevokeInvite {
        invite_id: made.invite.id.clone(),
    })
    .await
    .expect("revoke");
    let revoked = relay
        .register_invited("carol", PASSWORD, &made.link)
        .await
        .expect_err("revoked");
    assert_eq!(revoked.code(), Some(ErrorCode::Forbidden));
    let listed = root.request(&ListInvites {}).await.expect("list").invites;
    let mine = listed
        .iter()
        .find(|i| i.id == made.invite.id)
        .expect("listed");
    assert!(mine.revoked);
    assert_eq!(listed.iter().map(|i| i.used).sum::<u32>(), 3, "{listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_racing_for_a_single_use_invite_have_exactly_one_winner() {
    let (relay, root) = relay_with_admin().await;
    for round in 0..3 {
        let code = invite(&root, 1, None).await;
        let names: Vec<String> = (0..8).map(|i| format!("racer{round}_{i}")).collect();
        let attempts = names
            .iter()
            .map(|name| relay.register_invited(name, PASSWORD, &code));
        let results = futures_util::future::join_all(attempts).await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        for lost in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(lost.code(), Some(ErrorCode::Forbidden), "{lost:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_is_dropped_within_a_second_and_cannot_sign_in_until_enabled() {
    let (relay, root) = relay_with_admin().await;
    let code = invite(&root, 1, None).await;
    let alice = relay
        .register_invited("alice", PASSWORD, &code)
        .await
        .expect("alice");
    let a1 = relay.connect("alice", &alice.token).await.expect("a1");
    let second = relay
        .login("alice", PASSWORD)
        .await
        .expect("second session");
    let a2 = relay.connect("alice", &second.token).await.expect("a2");

    let started = Instant::now();
    let account = root
        .request(&DisableUser(target("alice")))
        .await
        .expect("disable")
        .account;
    assert!(account.disabled);
    for socket in [&a1, &a2] {
        socket.wait_closed().await.expect("dropped");
    }
    let took = started.elapsed();
    println!("disabled user's 2 sockets dropped in {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    let refused = relay.login("alice", PASSWORD).await.expect_err("disabled");
    assert_eq!(refused.code(), Some(ErrorCode::Forbidden));
    let wrong = relay
        .login("alice", "wrong password!")
        .await
        .expect_err("wrong");
    assert_eq!(
        wrong.code(),
        Some(ErrorCode::Unauthorized),
        "no hint without the password"
    );
    assert!(
        relay.connect("alice", &alice.token).await.is_err(),
        "old token dead"
    );

    root.request(&EnableUser(target("alice")))
        .await
        .expect("enable");
    let back = relay.login("alice", PASSWORD).await.expect("enabled again");
    relay
        .connect("alice", &back.token)
        .await
        .expect("connects again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_or_reset_ends_the_other_sessions() {
    let (relay, root) = relay_with_admin().await;
    let code = invite(&root, 1, None).await;
    let first = relay
        .register_invited("alice", PASSWORD, &code)
        .await
        .expect("alice");
    let here = relay.connect("alice", &first.token).await.expect("here");
    let other = relay.login("alice", PASSWORD).await.expect("other");
    let there = relay.connect("alice", &other.token).await.expect("there");

    let sessions = here
        .request(&ListSessions {})
        .await
        .expect("sessions")
        .sessions;
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);

    let wrong = ChangePassword {
        current: "not my password".into(),
        new: "a brand new one".into(),
    };
    assert_refused(
        here.request(&wrong).await,
        ErrorCode::Forbidden,
        "wrong current",
    );
    let change = ChangePassword {
        current: PASSWORD.into(),
        new: "a brand new one".into(),
    };
    let _: Empty = here.request(&change).await.expect("changed");
    there
        .wait_closed()
        .await
        .expect("the other session's socket dropped");
    assert!(relay.connect("alice", &other.token).await.is_err());
    let _ = here
        .request(&ListSessions {})
        .await
        .expect("this one stays");
    relay
        .login("alice", PASSWORD)
        .await
        .expect_err("old password");
    relay
        .login("alice", "a brand new one")
        .await
        .expect("new password");

    // An admin's reset ends every session, this one too.
    let reset = root
        .request(&ResetPassword {
            username: "alice".into(),
            password: None,
        })
        .await
        .expect("reset");
    here.wait_closed().await.expect("dropped by the reset");
    relay
        .login("alice", &reset.password)
        .await
        .expect("the new password works");

    // A password the admin chose: held to a registration's rules, then the only one that works,
    // and every session ends as with a random one.
    let again = relay.login("alice", &reset.password).await.expect("again");
    let live = relay.connect("alice", &again.token).await.expect("live");
    let short = ResetPassword {
        username: "alice".into(),
        password: Some("short".into()),
    };
    assert_refused(root.request(&short).await, ErrorCode::Invalid, "too short");
    live.request(&ListSessions {})
        .await
        .expect("a refused reset ends nothing");
    let chosen = root
        .request(&ResetPassword {
            username: "alice".into(),
            password: Some("the admin's choice".into()),
        })
        .await
        .expect("chosen reset");
    assert_eq!(chosen.password, "the admin's choice", "answered as chosen");
    live.wait_closed()
        .await
        .expect("dropped by the chosen reset");
    relay
        .login("alice", &reset.password)
        .await
        .expect_err("the random one is gone");
    relay
        .login("alice", "the admin's choice")
        .await
        .expect("the chosen password works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_can_be_listed_and_ended_one_by_one() {
    let (relay, root) = relay_with_admin().await;
    let other = relay.login("root", PASSWORD).await.expect("second");
    let there = relay.connect("root", &other.token).await.expect("there");
    let sessions = root.request(&ListSessions {}).await.expect("list").sessions;
    let theirs = sessions.iter().find(|s| !s.current).expect("the other");
    let _: Empty = root
        .request(&EndSession {
            session_id: theirs.id.clone(),
        })
        .await
        .expect("ended");
    there.wait_closed().await.expect("its socket dropped");
    let nobody = EndSession {
        session_id: "not-a-session".into(),
    };
    assert_refused(root.request(&nobody).await, ErrorCode::NotFound, "unknown");
}

/// `account:me`: the client's own account as it is now.
async fn me(client: &Client) -> natter_protocol::admin::Account {
    client
        .request(&OwnAccount {})
        .await
        .expect("one's own account")
        .account
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_never_leave_the_relay_without_an_admin() {
    let (relay, root) = relay_with_admin().await;
    let f = ErrorCode::Forbidden;
    assert_refused(
        root.request(&DemoteUser(target("root"))).await,
        f,
        "last admin demoted",
    );
    assert_refused(
        root.request(&DeleteUser(target("root"))).await,
        f,
        "last admin deleted",
    );
    assert_refused(
        root.request(&DisableUser(target("root"))).await,
        f,
        "last admin disabled",
    );
    let own = DeleteAccount {
        password: PASSWORD.into(),
    };
    assert_refused(root.request(&own).await, f, "last admin deletes self");

    let code = invite(&root, 1, None).await;
    let bob = relay
        .register_invited("bob", PASSWORD, &code)
        .await
        .expect("bob");
    let bob = relay
        .connect("bob", &bob.token)
        .await
        .expect("bob connects");
    assert_refused(
        bob.request(&ListUsers::default()).await,
        f,
        "a member lists",
    );
    // `account:me` tells each their own role, as it is now.
    let own = me(&bob).await;
    assert_eq!(
        (own.user.username.as_str(), own.role),
        ("bob", Role::Member)
    );
    assert_eq!(me(&root).await.role, Role::Admin);
    let promoted = root
        .request(&PromoteUser(target("bob")))
        .await
        .expect("promote");
    assert_eq!(promoted.account.role, Role::Admin);
    bob.request(&ListUsers::default())
        .await
        .expect("bob is an admin now");
    let demoted = bob
        .request(&DemoteUser(target("root")))
        .await
        .expect("demote root");
    assert_eq!(demoted.account.role, Role::Member);
    assert_eq!(me(&bob).await.role, Role::Admin);
    assert_eq!(me(&root).await.role, Role::Member);
    // root lost the power at once.
    assert_refused(
        root.request(&ListUsers::default()).await,
        f,
        "demoted admin",
    );
    let unknown = bob.request(&PromoteUser(target("nobody_here"))).await;
    assert_refused(unknown, ErrorCode::NotFound, "admins may learn who exists");
    let page = bob
        .request(&ListUsers {
            after: None,
            limit: Some(1),
        })
        .await
        .expect("a page");
    assert_eq!((page.users.len(), page.more), (1, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_account_cannot_sign_in_and_its_name_stays_taken() {
    let (relay, root) = relay_with_admin().await;
    let code = invite(&root, 3, None).await;
    let alice = relay
        .register_invited("alice", PASSWORD, &code)
        .await
        .expect("alice");
    let bob = relay
        .register_invited("bob", PASSWORD, &code)
        .await
        .expect("bob");
    let alice_socket = relay.connect("alice", &alice.token).await.expect("alice");
    let sent = alice_socket
        .request(&send(natter_protocol::GENERAL_ROOM_ID, "remember me"))
        .await
        .expect("sent");
    let wrong = DeleteAccount {
        password: "not my password".into(),
    };
    assert_refused(
        alice_socket.request(&wrong).await,
        ErrorCode::Forbidden,
        "wrong password",
    );
    let own = DeleteAccount {
        password: PASSWORD.into(),
    };
    let _: Empty = alice_socket.request(&own).await.expect("deleted");
    alice_socket.wait_closed().await.expect("dropped");
    relay.login("alice", PASSWORD).await.expect_err("gone");
    let again = relay
        .register_invited("alice", PASSWORD, &code)
        .await
        .expect_err("the name stays taken");
    assert_eq!(again.status, 409);
    // Their messages stay, under their name.
    let bob = relay.connect("bob", &bob.token).await.expect("bob");
    let page = bob
        .request(&history(natter_protocol::GENERAL_ROOM_ID, None, None))
        .await
        .expect("history")
        .messages;
    assert!(page
        .iter()
        .any(|m| m.id == sent.message.id && m.body == "remember me"));
    // An admin deletes bob; he cannot sign in either.
    let _: Empty = root
        .request(&DeleteUser(target("bob")))
        .await
        .expect("deleted");
    bob.wait_closed().await.expect("bob dropped");
    relay.login("bob", PASSWORD).await.expect_err("gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_display_name_is_validated_and_shown_beside_the_username() {
    let (relay, root) = relay_with_admin().await;
    let set = |name: &str| SetDisplayName {
        display_name: name.to_owned(),
    };
    let user = root.request(&set("Root Beer")).await.expect("set").user;
    assert_eq!(user.display_name, "Root Beer");
    assert_refused(
        root.request(&set("a\u{202E}b")).await,
        ErrorCode::Invalid,
        "bidi",
    );
    let login = relay.login("root", PASSWORD).await.expect("login");
    assert_eq!(login.user.display_name, "Root Beer");
    let _ = root.request(&set("")).await.expect("cleared");
    let login = relay.login("root", PASSWORD).await.expect("login");
    assert_eq!(login.user.display_name, "");
}

/// A valid payload for every admin request; a new one missing here fails the test below.
fn admin_payload(name: &str) -> Value {
    match name {
        "admin:invite:create" => json!({"uses": 1}),
        "admin:invites:list" => json!({}),
        "admin:invite:revoke" => json!({"invite_id": "some-invite"}),
        "admin:users:list" => json!({}),
        "admin:user:disable"
        | "admin:user:enable"
        | "admin:user:promote"
        | "admin:user:demote"
        | "admin:user:reset_password"
        | "admin:user:delete" => json!({"username": "root"}),
        other => panic!("no payload for the admin request {other}: add one here"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_is_refused_every_admin_request_and_nothing_changes() {
    let (relay, root) = relay_with_admin().await;
    let code = invite(&root, 1, None).await;
    let mallory = relay
        .register_invited("mallory", PASSWORD, &code)
        .await
        .expect("mallory");
    let mallory = relay
        .connect("mallory", &mallory.token)
        .await
        .expect("connects");
    for name in admin::NAMES {
        let answer = mallory
            .raw_request::<Value>(name, Some(admin_payload(name)), WAIT)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_refused(answer, ErrorCode::Forbidden, name);
    }
    let users = root.request(&ListUsers::default()).await.expect("root");
    let root_account = users
        .users
        .iter()
        .find(|a| a.user.username == "root")
        .expect("root");
    assert_eq!(
        (root_account.role, root_account.disabled),
        (Role::Admin, false)
    );
    relay
        .login("root", PASSWORD)
        .await
        .expect("root's password unchanged");
    // The same list of names, with the admin: none is refused `forbidden` for a payload here.
    for name in ["admin:invites:list", "admin:users:list"] {
        let answer = root
            .raw_request::<Value>(name, Some(admin_payload(name)), WAIT)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(answer.is_ok(), "{name}: {answer:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_registration_lets_anyone_in_and_closed_nobody() {
    let open = TestRelay::start_with(|c| c.registration = Registration::Open).await;
    open.register("anyone", PASSWORD).await.expect("open");
    let bad = open
        .register_invited("someone", PASSWORD, "0123abcd")
        .await
        .expect_err("a bad invite is still refused");
    assert_eq!(bad.code(), Some(ErrorCode::Forbidden));

    let closed = TestRelay::start_with(|c| c.registration = Registration::Closed).await;
    let link = first_admin_link(&closed);
    let root = closed
        .register_invited("root", PASSWORD, &link)
        .await
        .expect("the first admin still gets in");
    let root = closed.connect("root", &root.token).await.expect("root");
    let create = CreateInvite {
        uses: 1,
        expires_in_secs: None,
        role: Role::Member,
    };
    assert_refused(
        root.request(&create).await,
        ErrorCode::Forbidden,
        "closed: no invites",
    );
    let f = closed
        .register("anyone", PASSWORD)
        .await
        .expect_err("closed");
    assert_eq!(f.code(), Some(ErrorCode::Forbidden));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosted_relays_first_account_becomes_its_admin_with_no_code() {
    // As the desktop's "host on this computer" starts it (src-tauri/src/embedded.rs).
    let relay = TestRelay::start_with(|c| {
        c.registration = Registration::Open;
        c.first_account_admin = true;
    })
    .await;
    let file = relay.data_dir().join(natter_relay::FIRST_ADMIN_FILE);
    assert!(!file.exists(), "no code to copy: {}", file.display());
    let (_, owner) = relay.join("owner").await;
    let (_, guest) = relay.join("guest").await;
    let users = owner
        .request(&ListUsers::default())
        .await
        .expect("the owner is an admin");
    let roles: Vec<(&str, Role)> = users
        .users
        .iter()
        .map(|a| (a.user.username.as_str(), a.role))
        .collect();
    assert_eq!(roles, [("guest", Role::Member), ("owner", Role::Admin)]);
    assert_refused(
        guest.request(&ListUsers::default()).await,
        ErrorCode::Forbidden,
        "the second account is a member",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_deletes_a_members_message_in_a_room_they_share_but_cannot_edit_it() {
    use natter_protocol::requests::{DeleteMessage, EditMessage};

    let (relay, root) = relay_with_admin().await;
    let mut members = Vec::new();
    for name in ["bob", "carol"] {
        let code = invite(&root, 1, None).await;
        let session = relay
            .register_invited(name, PASSWORD, &code)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        members.push(
            relay
                .connect(name, &session.token)
                .await
                .unwrap_or_else(|e| panic!("{name} connects: {e:?}")),
        );
    }
    let (bob, carol) = (&members[0], &members[1]);
    let room = group(&root, "moderated", &["bob", "carol"]).await.id;
    let sent = bob
        .request(&send(&room, "something to take down"))
        .await
        .expect("bob sends")
        .message;
    let delete = |client_id: &str| DeleteMessage {
        room_id: room.clone(),
        client_id: client_id.to_owned(),
        message_id: sent.id.clone(),
    };
    assert_refused(
        carol.request(&delete("carol-1")).await,
        ErrorCode::Forbidden,
        "a member deletes another's message",
    );
    let edit = EditMessage {
        room_id: room.clone(),
        client_id: "root-edit".into(),
        message_id: sent.id.clone(),
        body: "rewritten by an admin".into(),
    };
    assert_refused(
        root.request(&edit).await,
        ErrorCode::Forbidden,
        "an admin edits another's message",
    );
    let entry = root
        .request(&delete("root-1"))
        .await
        .expect("the admin deletes")
        .message;
    assert_eq!(entry.sender, "root");
    let page = carol
        .request(&history(&room, None, None))
        .await
        .expect("history")
        .messages;
    let gone = page.iter().find(|m| m.id == sent.id).expect("the message");
    assert!(gone.deleted && gone.body.is_empty(), "{gone:?}");
    relay.stop().await;
}
