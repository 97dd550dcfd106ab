//! Limits every party agrees on. Relay-side rates are defaults a self-hoster can change.

/// Message body, in Unicode scalar values.
pub const MAX_BODY_CHARS: usize = 4_000;
/// Users one message can mention (more `@names` are left as text).
pub const MAX_MENTIONS: usize = 20;
/// Characters of a reply's target shown with the reply.
pub const REPLY_EXCERPT_CHARS: usize = 100;
/// Bytes of one reaction's emoji (a family with skin tones is about 40).
pub const MAX_EMOJI_BYTES: usize = 64;
/// One Socket.IO / Engine.IO payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
pub const USERNAME_MIN_CHARS: usize = 3;
pub const USERNAME_MAX_CHARS: usize = 32;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 1_024;
pub const ROOM_NAME_MAX_CHARS: usize = 64;
/// Members named in one `room:create`.
pub const MAX_CREATE_MEMBERS: usize = 256;
/// A room lists its members inline (`Room.members`) up to this many; a bigger room sends
/// only `member_count`, and its members are paged with `room:members`. Bounds every `Room` to
/// ~64 × 34 bytes of names, so `rooms:list`, `sync` and `room` stay small with any number of
/// users.
pub const MEMBERS_INLINE_MAX: u32 = 64;
/// `room:members`: members in one page by default, and at most.
pub const MEMBERS_PAGE_DEFAULT: u32 = 100;
pub const MEMBERS_PAGE_MAX: u32 = 200;
/// Length of a client_id or any id a client sends (UUIDs are 36).
pub const MAX_ID_CHARS: usize = 64;
/// Rooms named in one `sync`: even with ids of [`MAX_ID_CHARS`] the request stays well under
/// [`MAX_PAYLOAD_BYTES`]. A client in more rooms syncs them in chunks.
pub const MAX_SYNC_CURSORS: usize = 500;
pub const HISTORY_DEFAULT_LIMIT: u32 = 50;
/// `history` caps its limit here rather than refusing more.
pub const HISTORY_MAX_LIMIT: u32 = 100;
/// `search`: the query, in characters.
pub const SEARCH_QUERY_MAX_CHARS: usize = 200;
pub const SEARCH_DEFAULT_LIMIT: u32 = 20;
/// `search` caps its limit here rather than refusing more.
pub const SEARCH_MAX_LIMIT: u32 = 50;
/// A room's `unread` count stops here (a client shows "1000+"): counting a million unread
/// messages on every room list would cost the relay more than the number is worth.
pub const UNREAD_MAX: u32 = 1_000;
/// Messages in one `sync` page.
pub const SYNC_PAGE_MESSAGES: usize = 200;
/// Body bytes in one `sync` or `history` page, so a catch-up or history ack stays a modest
/// frame (100 bodies of 4,000 characters would be ~1.6 MB).
pub const SYNC_PAGE_BYTES: usize = 256 * 1024;
/// `message:send`: burst, then per second (per user).
pub const SEND_BURST: u32 = 30;
pub const SEND_PER_SECOND: u32 = 10;
/// `typing`: per second (per user).
pub const TYPING_PER_SECOND: u32 = 5;
/// `room:create`, `room:invite` and `dm:open` together: per minute (per user), with a burst of
/// as many. Each creates state every member's sockets carry from then on, so one user must not
/// create it without bound.
pub const ROOM_CHANGES_PER_MINUTE: u32 = 30;
/// Socket.IO connects per user, per minute (also the burst): a client reconnects with backoff,
/// so only a loop comes near it.
pub const CONNECTS_PER_MINUTE: u32 = 30;
/// Socket.IO connects per client address, per minute (also the burst): room for a household or
/// an office behind one NAT reconnecting at once after a relay restart.
pub const CONNECTS_PER_MINUTE_PER_ADDRESS: u32 = 120;
/// Milliseconds a user whose last socket closed still counts as online, so a reconnect within
/// it (a network change, a relay node switch) is not announced as offline and online again.
pub const PRESENCE_GRACE_MS: u64 = 3_000;
/// Rooms one user can be a member of (`general` and direct rooms included): others can put a
/// user in rooms, and every room costs each of the user's sockets at every connect.
pub const MAX_ROOMS_PER_USER: u32 = 500;
/// Users one user can block.
pub const MAX_BLOCKED: u32 = 1_000;
/// A display name, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
/// Users in one `admin:users:list` page (and its default).
pub const USERS_PAGE_MAX: u32 = 200;
/// Invites one `admin:invites:list` answers (the newest); an invite's uses.
pub const INVITES_LIST_MAX: u32 = 200;
pub const INVITE_MAX_USES: u32 = 10_000;
/// The longest an invite can be valid for: a year, in seconds.
pub const INVITE_MAX_EXPIRY_SECS: u64 = 366 * 24 * 60 * 60;
/// Admin requests per admin, per minute (also the burst).
pub const ADMIN_ACTIONS_PER_MINUTE: u32 = 60;
/// Files one message can carry (`message:send`'s `attachments`).
pub const MAX_ATTACHMENTS: usize = 10;
/// Characters of an uploaded file's name (longer names are refused).
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// `POST /api/files`' default size limit, in MiB (the relay's `--max-upload-mb`).
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 25;
