//! Every event and request wire name, each once (the `Event::NAME` / `Request::NAME` constants).

use super::*;

#[test]
fn request_names_match_design() {
    assert_eq!(ListRooms::NAME, "rooms:list");
    assert_eq!(CreateRoom::NAME, "room:create");
    assert_eq!(InviteToRoom::NAME, "room:invite");
    assert_eq!(LeaveRoom::NAME, "room:leave");
    assert_eq!(OpenDm::NAME, "dm:open");
    assert_eq!(SendMessage::NAME, "message:send");
    assert_eq!(SetTyping::NAME, "typing");
    assert_eq!(MarkRead::NAME, "read");
    assert_eq!(History::NAME, "history");
    assert_eq!(Sync::NAME, "sync");
    assert_eq!(RemoveFromRoom::NAME, "room:remove");
    assert_eq!(BlockUser::NAME, "user:block");
    assert_eq!(UnblockUser::NAME, "user:unblock");
    assert_eq!(ListBlocked::NAME, "blocks:list");
    assert_eq!(EditMessage::NAME, "message:edit");
    assert_eq!(DeleteMessage::NAME, "message:delete");
    assert_eq!(React::NAME, "reaction");
    assert_eq!(Search::NAME, "search");
    assert_eq!(ListMembers::NAME, "room:members");
    // `requests::NAMES` lists exactly these.
    let mut listed = natter_protocol::requests::NAMES.to_vec();
    let mut named = vec![
        ListRooms::NAME,
        CreateRoom::NAME,
        InviteToRoom::NAME,
        LeaveRoom::NAME,
        OpenDm::NAME,
        SendMessage::NAME,
        SetTyping::NAME,
        MarkRead::NAME,
        History::NAME,
        Sync::NAME,
        RemoveFromRoom::NAME,
        BlockUser::NAME,
        UnblockUser::NAME,
        ListBlocked::NAME,
        EditMessage::NAME,
        DeleteMessage::NAME,
        React::NAME,
        "admin:invite:create",
        "admin:invites:list",
        "admin:invite:revoke",
        "admin:users:list",
        "admin:user:disable",
        "admin:user:enable",
        "admin:user:promote",
        "admin:user:demote",
        "admin:user:reset_password",
        "admin:user:delete",
        "account:password",
        "account:sessions",
        "account:session:end",
        "account:display_name",
        "account:delete",
        "account:me",
        Search::NAME,
        ListMembers::NAME,
    ];
    listed.sort_unstable();
    named.sort_unstable();
    assert_eq!(listed, named);
}

#[test]
fn relay_event_names_match_design() {
    assert_eq!(MessageEvent::NAME, "message");
    assert_eq!(TypingEvent::NAME, "typing");
    assert_eq!(PresenceEvent::NAME, "presence");
    assert_eq!(ReceiptEvent::NAME, "receipt");
    assert_eq!(RoomEvent::NAME, "room");
    assert_eq!(RoomRemovedEvent::NAME, "room:removed");
    // The relay echoes `typing` under the client's own event name.
    assert_eq!(TypingEvent::NAME, SetTyping::NAME);
}

#[test]
fn names_are_unique_per_direction() {
    let requests = natter_protocol::requests::NAMES;
    let events = [
        MessageEvent::NAME,
        TypingEvent::NAME,
        PresenceEvent::NAME,
        ReceiptEvent::NAME,
        RoomEvent::NAME,
        RoomRemovedEvent::NAME,
    ];
    for list in [&requests[..], &events[..]] {
        let mut sorted = list.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), list.len(), "duplicate name in {list:?}");
    }
    // Names Socket.IO reserves must never be used as events.
    for reserved in [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ] {
        assert!(!requests.contains(&reserved) && !events.contains(&reserved));
    }
}

#[test]
fn constants_match_design() {
    assert_eq!(GENERAL_ROOM_ID, "general");
    assert_eq!(PROTOCOL_VERSION, 1);
    assert_eq!(REGISTER_PATH, "/api/register");
    assert_eq!(LOGIN_PATH, "/api/login");
    assert_eq!(LOGOUT_PATH, "/api/logout");
    assert_eq!(HEALTH_PATH, "/healthz");
    assert_eq!(FILES_PATH, "/api/files");
    assert_eq!(file_path("f-1"), "/api/files/f-1");
    assert_eq!(thumbnail_path("f-1"), "/api/files/f-1/thumbnail");
}
