//! Per-user and per-address rate limits (governor's keyed GCRA limiters), and the login
//! limiter's memory of who has been guessing which username.
//!
//! # Login: why a stranger cannot lock anyone out
//!
//! A per-username limit shared by every address lets anyone lock a user out: spend the budget
//! with wrong passwords and the owner's right one is refused too. So a login attempt passes
//! three checks, in this order, and a check that refuses spends nothing further along:
//!
//! 1. **The address** ([`Limits::allow_login_from`]): `login_per_minute` attempts per client
//!    address (IPv6 counted per /64, which one host usually holds whole). Checked before the
//!    username is even looked at, so a limited address spends no one's budget.
//! 2. **The username, from this address** ([`Limits::allow_login_as`]): an address that has
//!    not got a username's password wrong [`SUSPECT_AFTER`] times in the last
//!    [`FAILURES_KEPT`] is *clean* for it and goes straight on to the password check. So the
//!    owner, from an address that has not been guessing, always gets their password checked,
//!    however hard others guess.
//! 3. **The username, everywhere**: an address that *has* been guessing (it is a suspect for
//!    that username) must also find room in a per-username budget of `login_per_minute`, which
//!    every wrong password spends ([`Limits::login_failed`]), wherever it came from.
//!
//! Distributed guessing stays slow: all suspects of a username share one budget of
//! `login_per_minute` guesses, and each further address gets only its [`SUSPECT_AFTER`] first
//! guesses per [`FAILURES_KEPT`] outside it. The cost: a user who typed a wrong password
//! [`SUSPECT_AFTER`] times from an address while it is under attack waits like the attacker,
//! until [`FAILURES_KEPT`] passes or they log in from elsewhere.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::metrics::{Limit, Metrics};

/// Wrong passwords for one username from one address before that address is a suspect for it:
/// enough for the owner's typos, too few to be worth guessing with.
pub const SUSPECT_AFTER: u32 = 3;
/// A client address may read this many times what one user may: a household or an office
/// behind one NAT shares it.
pub const ADDRESS_READ_SHARE: u32 = 4;
/// How long an address's wrong passwords for a username are remembered (from the last one).
pub const FAILURES_KEPT: Duration = Duration::from_secs(15 * 60);

/// Wrong passwords for one username from one address, and when the last came.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// (lowercased username, address key) → its recent wrong passwords.
type FailureMap = HashMap<(String, IpAddr), Failures>;

#[derive(Clone)]
pub struct Limits {
    send: Arc<DefaultKeyedRateLimiter<String>>,
    typing: Arc<DefaultKeyedRateLimiter<String>>,
    room_changes: Arc<DefaultKeyedRateLimiter<String>>,
    /// `history`, `sync` and `rooms:list`, per user and per address key.
    reads_user: Arc<DefaultKeyedRateLimiter<String>>,
    reads_addr: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Guesses per username, spent by wrong passwords, checked only for suspect addresses.
    login_user: Arc<DefaultKeyedRateLimiter<String>>,
    login_addr: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    failures: Arc<Mutex<FailureMap>>,
    /// Admin requests, per admin.
    admin: Arc<DefaultKeyedRateLimiter<String>>,
    /// Each refusal counted by its limit, here where it is decided.
    metrics: Metrics,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").finish_non_exhaustive()
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// The key an address is limited by: IPv4 as it is, IPv6 by its /64 (a host is usually given a
/// whole /64 and can rotate through it freely), IPv4-mapped IPv6 as the IPv4 address.
pub fn address_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

impl Limits {
    pub fn new(config: &Config, metrics: Metrics) -> Self {
        let send = Quota::per_second(nz(config.send_per_second)).allow_burst(nz(config.send_burst));
        let typing = Quota::per_second(nz(config.typing_per_second));
        let room_changes = Quota::per_minute(nz(config.room_changes_per_minute));
        let login = Quota::per_minute(nz(config.login_per_minute));
        let reads = |share: u32| {
            Quota::per_second(nz(config.reads_per_second.saturating_mul(share)))
                .allow_burst(nz(config.read_burst.saturating_mul(share)))
        };
        Self {
            reads_user: Arc::new(RateLimiter::keyed(reads(1))),
            reads_addr: Arc::new(RateLimiter::keyed(reads(ADDRESS_READ_SHARE))),
            send: Arc::new(RateLimiter::keyed(send)),
            typing: Arc::new(RateLimiter::keyed(typing)),
            room_changes: Arc::new(RateLimiter::keyed(room_changes)),
            login_user: Arc::new(RateLimiter::keyed(login)),
            login_addr: Arc::new(RateLimiter::keyed(login)),
            failures: Arc::default(),
            admin: Arc::new(RateLimiter::keyed(Quota::per_minute(nz(
                natter_protocol::limits::ADMIN_ACTIONS_PER_MINUTE,
            )))),
            metrics,
        }
    }

    /// `allowed`, with a refusal counted against `limit`.
    fn counted(&self, allowed: bool, limit: Limit) -> bool {
        if !allowed {
            self.metrics.refused(limit);
        }
        allowed
    }

    pub fn allow_send(&self, user_id: &str) -> bool {
        let allowed = self.send.check_key(&user_id.to_owned()).is_ok();
        self.counted(allowed, Limit::Send)
    }

    pub fn allow_typing(&self, user_id: &str) -> bool {
        let allowed = self.typing.check_key(&user_id.to_owned()).is_ok();
        self.counted(allowed, Limit::Typing)
    }

    /// One `room:create`, `room:invite` or `dm:open`.
    pub fn allow_room_change(&self, user_id: &str) -> bool {
        let allowed = self.room_changes.check_key(&user_id.to_owned()).is_ok();
        self.counted(allowed, Limit::RoomChanges)
    }

    /// One admin request by `user_id` (an admin; members are refused before this).
    pub fn allow_admin(&self, user_id: &str) -> bool {
        let allowed = self.admin.check_key(&user_id.to_owned()).is_ok();
        self.counted(allowed, Limit::AdminActions)
    }

    /// One `history`, `sync` or `rooms:list` by `user_id` from `addr`. The address is checked
    /// first, so a limited address spends nothing of the user's budget.
    pub fn allow_read(&self, user_id: &str, addr: IpAddr) -> bool {
        let by_addr = self.reads_addr.check_key(&address_key(addr)).is_ok();
        self.counted(by_addr, Limit::ReadsPerAddress)
            && self.counted(
                self.reads_user.check_key(&user_id.to_owned()).is_ok(),
                Limit::ReadsPerUser,
            )
    }

    /// One login or register attempt from `addr`, whatever the username (check 1 above).
    pub fn allow_login_from(&self, addr: IpAddr) -> bool {
        let allowed = self.login_addr.check_key(&address_key(addr)).is_ok();
        self.counted(allowed, Limit::LoginPerAddress)
    }

    /// May `addr`, already past [`allow_login_from`](Self::allow_login_from), have a password
    /// for `username` checked (checks 2 and 3 above)? `username` must be well-formed: it
    /// becomes a key.
    pub fn allow_login_as(&self, username: &str, addr: IpAddr) -> bool {
        let user = username.to_lowercase();
        let suspect = self
            .failures
            .lock()
            .ok()
            .and_then(|map| map.get(&(user.clone(), address_key(addr))).copied())
            .is_some_and(|f| f.count >= SUSPECT_AFTER && f.last.elapsed() < FAILURES_KEPT);
        !suspect
            || self.counted(
                self.login_user.check_key(&user).is_ok(),
                Limit::LoginPerUsername,
            )
    }

    /// A wrong password for `username` from `addr`: one more failure remembered against the
    /// address, and the guess spent from the username's budget (a suspect's was spent when
    /// [`allow_login_as`](Self::allow_login_as) let it through; each guess spends once).
    pub fn login_failed(&self, username: &str, addr: IpAddr) {
        let user = username.to_lowercase();
        let was_suspect = match self.failures.lock() {
            Ok(mut map) => {
                let now = Instant::now();
                let entry = map
                    .entry((user.clone(), address_key(addr)))
                    .or_insert(Failures {
                        count: 0,
                        last: now,
                    });
                if entry.last.elapsed() >= FAILURES_KEPT {
                    entry.count = 0;
                }
                let was = entry.count >= SUSPECT_AFTER;
                entry.count = entry.count.saturating_add(1);
                entry.last = now;
                was
            }
            Err(_) => false,
        };
        if !was_suspect {
            let _ = self.login_user.check_key(&user);
        }
    }

    /// Forgets keys whose limits have fully recovered, so memory stays bounded.
    pub fn retain_recent(&self) {
        self.send.retain_recent();
        self.typing.retain_recent();
        self.room_changes.retain_recent();
        self.reads_user.retain_recent();
        self.reads_addr.retain_recent();
        self.login_user.retain_recent();
        self.login_addr.retain_recent();
        self.admin.retain_recent();
        if let Ok(mut map) = self.failures.lock() {
            map.retain(|_, f| f.last.elapsed() < FAILURES_KEPT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32) -> Limits {
        let mut config = Config::with_data_dir("/nonexistent");
        config.login_per_minute = per_minute;
        Limits::new(&config, Metrics::default())
    }

    #[test]
    fn reads_are_limited_per_user_and_four_times_as_many_per_address() {
        let mut config = Config::with_data_dir("/nonexistent");
        config.read_burst = 2;
        config.reads_per_second = 1;
        let l = Limits::new(&config, Metrics::default());
        let (home, elsewhere): (IpAddr, IpAddr) = (
            "192.0.2.1".parse().expect("v4"),
            "192.0.2.2".parse().expect("v4"),
        );
        assert!(l.allow_read("u1", home) && l.allow_read("u1", home));
        assert!(!l.allow_read("u1", home), "u1's burst is spent");
        assert!(!l.allow_read("u1", elsewhere), "wherever u1 reads from");
        // The address has 4 × 2; u1 spent 3 of them (the refused one too: it was checked
        // first). Others share the rest.
        let mut others = 0;
        for n in 2..10 {
            if l.allow_read(&format!("u{n}"), home) {
                others += 1;
            }
        }
        assert_eq!(others, 5, "the address's burst is shared");
        assert!(
            l.allow_read("u9", elsewhere),
            "another address is not spent"
        );
    }

    #[test]
    fn ipv6_is_keyed_on_its_64_and_mapped_ipv4_as_ipv4() {
        let key = |s: &str| address_key(s.parse().expect("an address"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
    }

    #[test]
    fn a_guesser_cannot_spend_a_clean_address_s_attempts() {
        let l = limits(10);
        let (attacker, owner): (IpAddr, IpAddr) = (
            "192.0.2.1".parse().expect("v4"),
            "192.0.2.2".parse().expect("v4"),
        );
        for _ in 0..10 {
            assert!(l.allow_login_from(attacker));
            if l.allow_login_as("alice", attacker) {
                l.login_failed("alice", attacker);
            }
        }
        assert!(
            !l.allow_login_from(attacker),
            "the guesser's address is spent"
        );
        assert!(l.allow_login_from(owner));
        assert!(
            l.allow_login_as("Alice", owner),
            "the owner gets their check"
        );
        // A second guesser: its first SUSPECT_AFTER guesses, then the shared, spent budget.
        let other: IpAddr = "2001:db8::1".parse().expect("v6");
        for _ in 0..SUSPECT_AFTER {
            assert!(l.allow_login_as("alice", other));
            l.login_failed("alice", other);
        }
        let rotated: IpAddr = "2001:db8::2".parse().expect("v6");
        assert!(
            !l.allow_login_as("alice", rotated),
            "same /64, same suspect"
        );
    }
}
