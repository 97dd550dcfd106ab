//! The admin and self-service calls (issue 18) through a real session on a relay that needs
//! invites: registering with a pasted invite string, an admin's invite, a member refused, a
//! display name, sessions and a password change. Every wait is bounded.

mod support;

use std::net::SocketAddr;

use natter_client::account::{self, AccountError};
use natter_client::session::SessionError;
use natter_protocol::admin::Role;
use natter_protocol::ErrorCode;
use support::app::{connected, start};
use support::{within, TestRelay, PASSWORD};

#[tokio::test]
async fn an_admin_invites_a_member_who_cannot_administer() {
    let relay_dir = tempfile::tempdir().expect("a data dir");
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let relay = TestRelay::at_with(
        relay_dir.path(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        |c| c.registration = natter_relay::config::Registration::Invite,
    )
    .await;
    let url = relay.url();
    let none = account::register(&url, "root", PASSWORD).await;
    assert!(
        matches!(none, Err(AccountError::Relay { status: 403, .. })),
        "{none:?}"
    );
    let first = std::fs::read_to_string(relay_dir.path().join(natter_relay::FIRST_ADMIN_FILE))
        .expect("the first-admin invite");
    let root = account::register_invited(&url, "root", PASSWORD, Some(first.trim()))
        .await
        .expect("root registers with the invite string");
    let (admin, mut admin_events) = start(a_dir.path(), url.clone(), &root.token).await;
    connected(&mut admin_events).await;

    let made = within("invite", admin.create_invite(1, Some(3600), Role::Member))
        .await
        .expect("an invite");
    // The pasted string carries the server; the client parses it in one place.
    let link = natter_protocol::invite::InviteLink::parse(&made.link).expect("parses");
    assert_eq!(link.server, url);
    let bob = account::register_invited(&link.server, "bob", PASSWORD, Some(&made.link))
        .await
        .expect("bob registers with the pasted string");
    let (member, mut member_events) = start(b_dir.path(), url.clone(), &bob.token).await;
    connected(&mut member_events).await;

    let refused = within("users", member.users(None, None)).await;
    match refused {
        Err(SessionError::Refused(e)) => assert_eq!(e.code, ErrorCode::Forbidden),
        other => panic!("a member listed users: {other:?}"),
    }
    let page = within("users", admin.users(None, None))
        .await
        .expect("users");
    let names: Vec<&str> = page
        .users
        .iter()
        .map(|a| a.user.username.as_str())
        .collect();
    assert_eq!(names, ["bob", "root"]);
    let invites = within("invites", admin.invites()).await.expect("invites");
    assert_eq!(
        invites.iter().map(|i| i.used).sum::<u32>(),
        2,
        "{invites:?}"
    );

    let me = within("name", member.set_display_name("Bobby Tables"))
        .await
        .expect("display name");
    assert_eq!(me.display_name, "Bobby Tables");
    let sessions = within("sessions", member.sessions())
        .await
        .expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);
    within(
        "password",
        member.change_password(PASSWORD, "a brand new password"),
    )
    .await
    .expect("changed");
    account::login(&url, "bob", "a brand new password")
        .await
        .expect("the new password");
    let promoted = within("promote", admin.set_role("bob", Role::Admin))
        .await
        .expect("promoted");
    assert_eq!(promoted.role, Role::Admin);
    within("users", member.users(None, Some(1)))
        .await
        .expect("bob administers now");
}
