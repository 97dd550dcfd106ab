//! Per-user and per-address rate limits (governor's keyed GCRA limiters).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;

#[derive(Clone)]
pub struct Limits {
    send: Arc<DefaultKeyedRateLimiter<String>>,
    typing: Arc<DefaultKeyedRateLimiter<String>>,
    room_changes: Arc<DefaultKeyedRateLimiter<String>>,
    login_user: Arc<DefaultKeyedRateLimiter<String>>,
    login_addr: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").finish_non_exhaustive()
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Limits {
    pub fn new(config: &Config) -> Self {
        let send = Quota::per_second(nz(config.send_per_second)).allow_burst(nz(config.send_burst));
        let typing = Quota::per_second(nz(config.typing_per_second));
        let room_changes = Quota::per_minute(nz(config.room_changes_per_minute));
        let login = Quota::per_minute(nz(config.login_per_minute));
        Self {
            send: Arc::new(RateLimiter::keyed(send)),
            typing: Arc::new(RateLimiter::keyed(typing)),
            room_changes: Arc::new(RateLimiter::keyed(room_changes)),
            login_user: Arc::new(RateLimiter::keyed(login)),
            login_addr: Arc::new(RateLimiter::keyed(login)),
        }
    }

    pub fn allow_send(&self, user_id: &str) -> bool {
        self.send.check_key(&user_id.to_owned()).is_ok()
    }

    pub fn allow_typing(&self, user_id: &str) -> bool {
        self.typing.check_key(&user_id.to_owned()).is_ok()
    }

    /// One `room:create`, `room:invite` or `dm:open`.
    pub fn allow_room_change(&self, user_id: &str) -> bool {
        self.room_changes.check_key(&user_id.to_owned()).is_ok()
    }

    /// One login (or register) attempt for this username from this address.
    pub fn allow_login(&self, username: &str, addr: IpAddr) -> bool {
        // Check both, so a spray over many usernames is caught by the address limit.
        let by_addr = self.login_addr.check_key(&addr).is_ok();
        let by_user = self.login_user.check_key(&username.to_lowercase()).is_ok();
        by_addr && by_user
    }

    /// Forgets keys whose limits have fully recovered, so memory stays bounded.
    pub fn retain_recent(&self) {
        self.send.retain_recent();
        self.typing.retain_recent();
        self.room_changes.retain_recent();
        self.login_user.retain_recent();
        self.login_addr.retain_recent();
    }
}
