//! Socket.IO connects, rate-limited per user and per client address (issue 22 item 6): each
//! connect signs a token on (a store read), joins rooms and may announce presence, so a client
//! reconnecting in a loop must not cost everyone else. Apart from `ratelimit.rs` (per-request
//! and login limits) so each file keeps one subject.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::metrics::{Limit, Metrics};
use crate::ratelimit::address_key;

#[derive(Clone)]
pub struct ConnectLimits {
    user: Arc<DefaultKeyedRateLimiter<String>>,
    addr: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Each refusal counted by its limit.
    metrics: Metrics,
}

impl std::fmt::Debug for ConnectLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectLimits").finish_non_exhaustive()
    }
}

fn per_minute(n: u32) -> Quota {
    // A burst of a whole minute's worth: a relay restart reconnects everyone at once.
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl ConnectLimits {
    pub fn new(config: &Config, metrics: Metrics) -> Self {
        Self {
            user: Arc::new(RateLimiter::keyed(per_minute(config.connects_per_minute))),
            addr: Arc::new(RateLimiter::keyed(per_minute(
                config.connects_per_minute_per_address,
            ))),
            metrics,
        }
    }

    /// One connect from `addr` (IPv6 by its /64), before its token is looked at.
    pub fn allow_from(&self, addr: IpAddr) -> bool {
        let allowed = self.addr.check_key(&address_key(addr)).is_ok();
        if !allowed {
            self.metrics.refused(Limit::ConnectsPerAddress);
        }
        allowed
    }

    /// One connect of `user_id`, once its token is known.
    pub fn allow_user(&self, user_id: &str) -> bool {
        let allowed = self.user.check_key(&user_id.to_owned()).is_ok();
        if !allowed {
            self.metrics.refused(Limit::ConnectsPerUser);
        }
        allowed
    }

    /// Forgets keys whose limits have fully recovered, so memory stays bounded.
    pub fn retain_recent(&self) {
        self.user.retain_recent();
        self.addr.retain_recent();
    }
}
