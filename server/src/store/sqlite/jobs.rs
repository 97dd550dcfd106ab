//! The `Store` trait for [`SqliteStore`]: each method is one job on the writer thread or a
//! reader thread, over the functions of `accounts.rs`, `rooms.rs`, `consent.rs`, `peers.rs`
//! and `messages.rs` (a job owns copies of its arguments: it runs on another thread).

use std::time::Duration;

use async_trait::async_trait;
use natter_protocol::model::Seq;
use natter_protocol::{Message, Room, User};
use tokio::sync::mpsc;

use super::{
    accounts, admin, consent, files, members, messages, peers, rooms, search, SqliteStore,
};
use crate::store::api::Store;
use crate::store::commit::Commits;
use crate::store::types::{
    Admission, Credentials, Departure, NewFile, NewInvite, NewSession, PageFrom, SearchPage,
    SearchQuery, Seen, SessionRow, SignOn, StoreError, StoredFile,
};
use crate::time::rfc3339_ago;
use natter_protocol::admin::{Account, Invite, Role};

/// A session's last use is written at most this often (or a quarter of its idle time, if
/// shorter): a write per connect would cost a reconnect storm thousands of them.
const SESSION_TOUCH_EVERY: Duration = Duration::from_secs(60 * 60);

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError> {
        let (name, hash) = (username.to_owned(), password_hash.to_owned());
        self.write(move |c| accounts::create_user(c, &name, &hash))
            .await
    }

    async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        let name = username.to_owned();
        self.read(move |c| accounts::credentials(c, &name)).await
    }

    async fn users_by_name(&self, usernames: &[String]) -> Result<Vec<User>, StoreError> {
        let names = usernames.to_vec();
        self.read(move |c| accounts::users_by_name(c, &names)).await
    }

    async fn last_seen(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let id = user_id.to_owned();
        self.read(move |c| accounts::last_seen(c, &id)).await
    }

    async fn seen(&self, user_ids: &[String]) -> Result<Vec<Seen>, StoreError> {
        let ids = user_ids.to_vec();
        self.read(move |c| peers::seen(c, &ids)).await
    }

    async fn peers_of(&self, user_id: &str, limit: u32) -> Result<Vec<Seen>, StoreError> {
        let id = user_id.to_owned();
        self.read(move |c| peers::peers(c, &id, limit)).await
    }

    async fn set_last_seen(&self, user_id: &str, at: &str) -> Result<(), StoreError> {
        let (id, at) = (user_id.to_owned(), at.to_owned());
        self.write(move |c| accounts::set_last_seen(c, &id, &at))
            .await
    }

    async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
        device: &str,
    ) -> Result<NewSession, StoreError> {
        let (id, hash, device, per_user) = (
            user_id.to_owned(),
            token_hash.to_owned(),
            device.to_owned(),
            self.sessions.per_user,
        );
        self.write(move |c| accounts::create_session(c, &id, &hash, &device, per_user))
            .await
    }

    async fn sign_on(&self, token_hash: &str) -> Result<Option<SignOn>, StoreError> {
        let hash = token_hash.to_owned();
        let found = self.read(move |c| accounts::sign_on(c, &hash)).await?;
        let Some((signed_on, last_used)) = found else {
            return Ok(None);
        };
        let idle = self.sessions.idle;
        let id = signed_on.session_id.clone();
        if last_used < rfc3339_ago(idle) {
            // Expired: gone for good, so the token is refused from now on without a look-up.
            self.write(move |c| accounts::end_session(c, &id)).await?;
            return Ok(None);
        }
        if last_used < rfc3339_ago(SESSION_TOUCH_EVERY.min(idle / 4)) {
            self.write(move |c| accounts::touch_session(c, &id)).await?;
        }
        Ok(Some(signed_on))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        let hash = token_hash.to_owned();
        self.write(move |c| accounts::delete_session(c, &hash))
            .await
    }

    async fn register(
        &self,
        username: &str,
        password_hash: &str,
        admission: Admission,
    ) -> Result<User, StoreError> {
        let (name, hash) = (username.to_owned(), password_hash.to_owned());
        self.write(move |c| admin::register(c, &name, &hash, &admission))
            .await
    }

    async fn user_count(&self) -> Result<u64, StoreError> {
        self.read(admin::user_count).await
    }

    async fn create_invite(&self, invite: NewInvite) -> Result<Invite, StoreError> {
        self.write(move |c| admin::create_invite(c, &invite)).await
    }

    async fn invites(&self, limit: u32) -> Result<Vec<Invite>, StoreError> {
        self.read(move |c| admin::invites(c, limit)).await
    }

    async fn revoke_invite(&self, invite_id: &str) -> Result<bool, StoreError> {
        let id = invite_id.to_owned();
        self.write(move |c| admin::revoke_invite(c, &id)).await
    }

    async fn accounts(&self, after: Option<&str>, limit: u32) -> Result<Vec<Account>, StoreError> {
        let after = after.map(str::to_owned);
        self.read(move |c| admin::accounts(c, after.as_deref(), limit))
            .await
    }

    async fn account(&self, username: &str) -> Result<Option<Account>, StoreError> {
        let name = username.to_owned();
        self.read(move |c| admin::account(c, &name)).await
    }

    async fn active_role(&self, user_id: &str) -> Result<Option<Role>, StoreError> {
        let id = user_id.to_owned();
        self.read(move |c| admin::active_role(c, &id)).await
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<Vec<String>, StoreError> {
        let id = user_id.to_owned();
        self.write(move |c| admin::set_disabled(c, &id, disabled))
            .await
    }

    async fn set_role(&self, user_id: &str, role: Role) -> Result<(), StoreError> {
        let id = user_id.to_owned();
        self.write(move |c| admin::set_role(c, &id, role)).await
    }

    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let (id, hash, keep) = (
            user_id.to_owned(),
            password_hash.to_owned(),
            keep.map(str::to_owned),
        );
        self.write(move |c| admin::set_password(c, &id, &hash, keep.as_deref()))
            .await
    }

    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let id = user_id.to_owned();
        self.read(move |c| admin::password_hash(c, &id)).await
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError> {
        let id = user_id.to_owned();
        self.read(move |c| admin::sessions_of(c, &id)).await
    }

    async fn end_session_of(&self, user_id: &str, session_id: &str) -> Result<bool, StoreError> {
        let (user, session) = (user_id.to_owned(), session_id.to_owned());
        self.write(move |c| admin::end_session_of(c, &user, &session))
            .await
    }

    async fn set_display_name(&self, user_id: &str, display_name: &str) -> Result<(), StoreError> {
        let (id, name) = (user_id.to_owned(), display_name.to_owned());
        self.write(move |c| admin::set_display_name(c, &id, &name))
            .await
    }

    async fn delete_user(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let id = user_id.to_owned();
        self.write(move |c| admin::delete_user(c, &id)).await
    }

    async fn rooms_of(&self, user_id: &str) -> Result<Vec<Room>, StoreError> {
        let id = user_id.to_owned();
        self.read(move |c| rooms::rooms_of(c, &id)).await
    }

    async fn room_ids_of(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let id = user_id.to_owned();
        self.read(move |c| rooms::room_ids_of(c, &id)).await
    }

    async fn room_for(&self, room_id: &str, user_id: &str) -> Result<Option<Room>, StoreError> {
        let (room, user) = (room_id.to_owned(), user_id.to_owned());
        self.read(move |c| rooms::room_for(c, &room, &user)).await
    }

    async fn is_member(&self, room_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let (room, user) = (room_id.to_owned(), user_id.to_owned());
        self.read(move |c| rooms::is_member(c, &room, &user)).await
    }

    async fn member_ids(&self, room_id: &str) -> Result<Vec<String>, StoreError> {
        let room = room_id.to_owned();
        self.read(move |c| rooms::member_ids(c, &room)).await
    }

    async fn members_page(
        &self,
        room_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let (room, after) = (room_id.to_owned(), after.map(str::to_owned));
        self.read(move |c| members::members_page(c, &room, after.as_deref(), limit))
            .await
    }

    async fn create_group(
        &self,
        name: &str,
        creator: &User,
        members: &[User],
        max_rooms: u32,
    ) -> Result<String, StoreError> {
        let (name, creator, members) = (name.to_owned(), creator.clone(), members.to_vec());
        self.write(move |c| rooms::create_group(c, &name, &creator, &members, max_rooms))
            .await
    }

    async fn open_direct(
        &self,
        a: &User,
        b: &User,
        max_rooms: u32,
    ) -> Result<(String, bool), StoreError> {
        let (a, b) = (a.clone(), b.clone());
        self.write(move |c| rooms::open_direct(c, &a, &b, max_rooms))
            .await
    }

    async fn add_member(
        &self,
        room_id: &str,
        user_id: &str,
        max_rooms: u32,
    ) -> Result<bool, StoreError> {
        let (room, user) = (room_id.to_owned(), user_id.to_owned());
        self.write(move |c| rooms::add_member(c, &room, &user, max_rooms))
            .await
    }

    async fn remove_member(
        &self,
        room_id: &str,
        user_id: &str,
        how: Departure,
    ) -> Result<bool, StoreError> {
        let (room, user) = (room_id.to_owned(), user_id.to_owned());
        self.write(move |c| consent::remove_and_remember(c, &room, &user, how))
            .await
    }

    async fn departure(
        &self,
        room_id: &str,
        user_id: &str,
    ) -> Result<Option<Departure>, StoreError> {
        let (room, user) = (room_id.to_owned(), user_id.to_owned());
        self.read(move |c| consent::departure(c, &room, &user))
            .await
    }

    async fn room_creator(&self, room_id: &str) -> Result<Option<String>, StoreError> {
        let room = room_id.to_owned();
        self.read(move |c| consent::creator(c, &room)).await
    }

    async fn block(&self, blocker_id: &str, blocked_id: &str) -> Result<bool, StoreError> {
        let (blocker, blocked) = (blocker_id.to_owned(), blocked_id.to_owned());
        self.write(move |c| consent::block(c, &blocker, &blocked))
            .await
    }

    async fn unblock(&self, blocker_id: &str, blocked_id: &str) -> Result<(), StoreError> {
        let (blocker, blocked) = (blocker_id.to_owned(), blocked_id.to_owned());
        self.write(move |c| consent::unblock(c, &blocker, &blocked))
            .await
    }

    async fn blocked_by(&self, blocker_id: &str) -> Result<Vec<String>, StoreError> {
        let blocker = blocker_id.to_owned();
        self.read(move |c| consent::blocked_by(c, &blocker)).await
    }

    async fn has_blocked(&self, blocker_id: &str, blocked_id: &str) -> Result<bool, StoreError> {
        let (blocker, blocked) = (blocker_id.to_owned(), blocked_id.to_owned());
        self.read(move |c| consent::has_blocked(c, &blocker, &blocked))
            .await
    }

    fn commits(&self) -> Commits {
        self.commits.clone()
    }

    fn committed(&self) -> mpsc::Receiver<Message> {
        self.committed.subscribe()
    }

    async fn history(
        &self,
        room_id: &str,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let (room, before) = (room_id.to_owned(), before.unwrap_or(Seq::MAX));
        self.read(move |c| messages::history(c, &room, before, limit))
            .await
    }

    async fn messages_after(
        &self,
        room_id: &str,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let room = room_id.to_owned();
        self.read(move |c| messages::messages_after(c, &room, after, limit))
            .await
    }

    async fn search(&self, user_id: &str, query: &SearchQuery) -> Result<SearchPage, StoreError> {
        let (user, query) = (user_id.to_owned(), query.clone());
        self.read(move |c| search::search(c, &user, &query)).await
    }

    async fn messages_page(
        &self,
        room_id: &str,
        from: PageFrom,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let room = room_id.to_owned();
        self.read(move |c| messages::messages_page(c, &room, from, limit))
            .await
    }

    async fn mark_read(
        &self,
        room_id: &str,
        user_id: &str,
        seq: Seq,
    ) -> Result<Option<Seq>, StoreError> {
        let (room, user) = (room_id.to_owned(), user_id.to_owned());
        self.write(move |c| rooms::mark_read(c, &room, &user, seq))
            .await
    }

    async fn add_file(&self, file: NewFile) -> Result<(), StoreError> {
        self.write(move |c| files::add(c, &file)).await
    }

    async fn file_for(
        &self,
        file_id: &str,
        user_id: &str,
    ) -> Result<Option<StoredFile>, StoreError> {
        let (file, user) = (file_id.to_owned(), user_id.to_owned());
        self.read(move |c| files::readable(c, &file, &user)).await
    }

    async fn file_hash_in_use(&self, hash: &str) -> Result<bool, StoreError> {
        let hash = hash.to_owned();
        self.read(move |c| files::hash_in_use(c, &hash)).await
    }

    async fn remove_orphan_files(&self, before: &str) -> Result<Vec<String>, StoreError> {
        let before = before.to_owned();
        self.write(move |c| files::remove_orphans(c, &before)).await
    }
}
