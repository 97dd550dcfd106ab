//! The `Store` trait for [`PgStore`]: each method runs the functions of `accounts.rs`,
//! `admin.rs`, `rooms.rs`, `consent.rs`, `peers.rs`, `messages.rs` and `files.rs` on a pooled
//! connection (or in a transaction of its own, for writes of several rows).

use std::time::Duration;

use async_trait::async_trait;
use natter_protocol::admin::{Account, Invite, Role};
use natter_protocol::model::Seq;
use natter_protocol::{Message, Room, User};
use sqlx::pool::PoolConnection;
use sqlx::Postgres;
use tokio::sync::mpsc;

use super::{accounts, admin, consent, files, members, messages, peers, rooms, search, PgStore};
use crate::store::api::Store;
use crate::store::commit::Commits;
use crate::store::types::{
    Admission, Credentials, Departure, NewFile, NewInvite, NewSession, PageFrom, SearchPage,
    SearchQuery, Seen, SessionRow, SignOn, StoreError, StoredFile,
};
use crate::time::rfc3339_ago;

/// A session's last use is written at most this often (or a quarter of its idle time, if
/// shorter): a write per connect would cost a reconnect storm thousands of them.
const SESSION_TOUCH_EVERY: Duration = Duration::from_secs(60 * 60);

impl PgStore {
    async fn conn(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        Ok(self.pool.acquire().await?)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError> {
        accounts::create_user(&self.pool, username, password_hash).await
    }

    async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        Ok(accounts::credentials(&mut *self.conn().await?, username).await?)
    }

    async fn users_by_name(&self, usernames: &[String]) -> Result<Vec<User>, StoreError> {
        Ok(accounts::users_by_name(&mut *self.conn().await?, usernames).await?)
    }

    async fn last_seen(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        Ok(accounts::last_seen(&mut *self.conn().await?, user_id).await?)
    }

    async fn seen(&self, user_ids: &[String]) -> Result<Vec<Seen>, StoreError> {
        Ok(peers::seen(&mut *self.conn().await?, user_ids).await?)
    }

    async fn peers_of(&self, user_id: &str, limit: u32) -> Result<Vec<Seen>, StoreError> {
        Ok(peers::peers(&mut *self.conn().await?, user_id, limit).await?)
    }

    async fn set_last_seen(&self, user_id: &str, at: &str) -> Result<(), StoreError> {
        Ok(accounts::set_last_seen(&mut *self.conn().await?, user_id, at).await?)
    }

    async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
        device: &str,
    ) -> Result<NewSession, StoreError> {
        let per_user = self.sessions.per_user;
        accounts::create_session(&self.pool, user_id, token_hash, device, per_user).await
    }

    async fn sign_on(&self, token_hash: &str) -> Result<Option<SignOn>, StoreError> {
        let mut conn = self.conn().await?;
        let Some((signed_on, last_used)) = accounts::sign_on(&mut conn, token_hash).await? else {
            return Ok(None);
        };
        let idle = self.sessions.idle;
        let id = &signed_on.session_id;
        if last_used < rfc3339_ago(idle) {
            // Expired: gone for good, so the token is refused from now on without a look-up.
            accounts::end_session(&mut conn, id).await?;
            return Ok(None);
        }
        if last_used < rfc3339_ago(SESSION_TOUCH_EVERY.min(idle / 4)) {
            accounts::touch_session(&mut conn, id).await?;
        }
        Ok(Some(signed_on))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        Ok(accounts::delete_session(&mut *self.conn().await?, token_hash).await?)
    }

    async fn register(
        &self,
        username: &str,
        password_hash: &str,
        admission: Admission,
    ) -> Result<User, StoreError> {
        admin::register(&self.pool, username, password_hash, &admission).await
    }

    async fn user_count(&self) -> Result<u64, StoreError> {
        Ok(admin::user_count(&mut *self.conn().await?).await?)
    }

    async fn create_invite(&self, invite: NewInvite) -> Result<Invite, StoreError> {
        Ok(admin::create_invite(&mut *self.conn().await?, &invite).await?)
    }

    async fn invites(&self, limit: u32) -> Result<Vec<Invite>, StoreError> {
        Ok(admin::invites(&mut *self.conn().await?, limit).await?)
    }

    async fn revoke_invite(&self, invite_id: &str) -> Result<bool, StoreError> {
        Ok(admin::revoke_invite(&mut *self.conn().await?, invite_id).await?)
    }

    async fn accounts(&self, after: Option<&str>, limit: u32) -> Result<Vec<Account>, StoreError> {
        Ok(admin::accounts(&mut *self.conn().await?, after, limit).await?)
    }

    async fn account(&self, username: &str) -> Result<Option<Account>, StoreError> {
        Ok(admin::account(&mut *self.conn().await?, username).await?)
    }

    async fn active_role(&self, user_id: &str) -> Result<Option<Role>, StoreError> {
        Ok(admin::active_role(&mut *self.conn().await?, user_id).await?)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<Vec<String>, StoreError> {
        admin::set_disabled(&self.pool, user_id, disabled).await
    }

    async fn set_role(&self, user_id: &str, role: Role) -> Result<(), StoreError> {
        admin::set_role(&self.pool, user_id, role).await
    }

    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        admin::set_password(&self.pool, user_id, password_hash, keep).await
    }

    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        Ok(admin::password_hash(&mut *self.conn().await?, user_id).await?)
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError> {
        Ok(admin::sessions_of(&mut *self.conn().await?, user_id).await?)
    }

    async fn end_session_of(&self, user_id: &str, session_id: &str) -> Result<bool, StoreError> {
        Ok(admin::end_session_of(&mut *self.conn().await?, user_id, session_id).await?)
    }

    async fn set_display_name(&self, user_id: &str, display_name: &str) -> Result<(), StoreError> {
        Ok(admin::set_display_name(&mut *self.conn().await?, user_id, display_name).await?)
    }

    async fn delete_user(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        admin::delete_user(&self.pool, user_id).await
    }

    async fn rooms_of(&self, user_id: &str) -> Result<Vec<Room>, StoreError> {
        rooms::rooms_of(&mut *self.conn().await?, user_id).await
    }

    async fn room_ids_of(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(rooms::room_ids_of(&mut *self.conn().await?, user_id).await?)
    }

    async fn room_for(&self, room_id: &str, user_id: &str) -> Result<Option<Room>, StoreError> {
        rooms::room_for(&mut *self.conn().await?, room_id, user_id).await
    }

    async fn is_member(&self, room_id: &str, user_id: &str) -> Result<bool, StoreError> {
        Ok(rooms::is_member(&mut *self.conn().await?, room_id, user_id).await?)
    }

    async fn member_ids(&self, room_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(rooms::member_ids(&mut *self.conn().await?, room_id).await?)
    }

    async fn members_page(
        &self,
        room_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        members::members_page(&mut *self.conn().await?, room_id, after, limit).await
    }

    async fn create_group(
        &self,
        name: &str,
        creator: &User,
        members: &[User],
        max_rooms: u32,
    ) -> Result<String, StoreError> {
        rooms::create_group(&self.pool, name, creator, members, max_rooms).await
    }

    async fn open_direct(
        &self,
        a: &User,
        b: &User,
        max_rooms: u32,
    ) -> Result<(String, bool), StoreError> {
        rooms::open_direct(&self.pool, a, b, max_rooms).await
    }

    async fn add_member(
        &self,
        room_id: &str,
        user_id: &str,
        max_rooms: u32,
    ) -> Result<bool, StoreError> {
        rooms::add_member(&self.pool, room_id, user_id, max_rooms).await
    }

    async fn remove_member(
        &self,
        room_id: &str,
        user_id: &str,
        how: Departure,
    ) -> Result<bool, StoreError> {
        Ok(consent::remove_and_remember(&self.pool, room_id, user_id, how).await?)
    }

    async fn departure(
        &self,
        room_id: &str,
        user_id: &str,
    ) -> Result<Option<Departure>, StoreError> {
        Ok(consent::departure(&mut *self.conn().await?, room_id, user_id).await?)
    }

    async fn room_creator(&self, room_id: &str) -> Result<Option<String>, StoreError> {
        Ok(consent::creator(&mut *self.conn().await?, room_id).await?)
    }

    async fn block(&self, blocker_id: &str, blocked_id: &str) -> Result<bool, StoreError> {
        Ok(consent::block(&mut *self.conn().await?, blocker_id, blocked_id).await?)
    }

    async fn unblock(&self, blocker_id: &str, blocked_id: &str) -> Result<(), StoreError> {
        Ok(consent::unblock(&mut *self.conn().await?, blocker_id, blocked_id).await?)
    }

    async fn blocked_by(&self, blocker_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(consent::blocked_by(&mut *self.conn().await?, blocker_id).await?)
    }

    async fn has_blocked(&self, blocker_id: &str, blocked_id: &str) -> Result<bool, StoreError> {
        Ok(consent::has_blocked(&mut *self.conn().await?, blocker_id, blocked_id).await?)
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
        let before = before.unwrap_or(Seq::MAX);
        Ok(messages::history(&mut *self.conn().await?, room_id, before, limit).await?)
    }

    async fn search(&self, user_id: &str, query: &SearchQuery) -> Result<SearchPage, StoreError> {
        Ok(search::search(&mut *self.conn().await?, user_id, query).await?)
    }

    async fn messages_page(
        &self,
        room_id: &str,
        from: PageFrom,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        Ok(messages::messages_page(&mut *self.conn().await?, room_id, from, limit).await?)
    }

    async fn messages_after(
        &self,
        room_id: &str,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        Ok(messages::messages_after(&mut *self.conn().await?, room_id, after, limit).await?)
    }

    async fn mark_read(
        &self,
        room_id: &str,
        user_id: &str,
        seq: Seq,
    ) -> Result<Option<Seq>, StoreError> {
        Ok(rooms::mark_read(&mut *self.conn().await?, room_id, user_id, seq).await?)
    }

    async fn add_file(&self, file: NewFile) -> Result<(), StoreError> {
        Ok(files::add(&mut *self.conn().await?, &file).await?)
    }

    async fn file_for(
        &self,
        file_id: &str,
        user_id: &str,
    ) -> Result<Option<StoredFile>, StoreError> {
        Ok(files::readable(&mut *self.conn().await?, file_id, user_id).await?)
    }

    async fn file_hash_in_use(&self, hash: &str) -> Result<bool, StoreError> {
        Ok(files::hash_in_use(&mut *self.conn().await?, hash).await?)
    }

    async fn remove_orphan_files(&self, before: &str) -> Result<Vec<String>, StoreError> {
        Ok(files::remove_orphans(&self.pool, before).await?)
    }
}
