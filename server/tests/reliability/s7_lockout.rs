//! S7 (issue 22, item 1): nobody can lock a user out of login. An attacker on 127.0.0.2 guesses
//! alice's password as fast as the relay answers, past its own limit; alice, on 127.0.0.3 with
//! the right password, must get in every time. Then ten more guessers (127.0.0.10–19) spread
//! their guesses of alice's password over their addresses: past each one's first few, they
//! must be slowed (`rate_limited`), so distributed guessing stays slow.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use natter_relay::ratelimit::SUSPECT_AFTER;

use crate::harness::{self, assert_alive, long};
use crate::util::{Api, PASSWORD};

/// The relay's default: attempts per minute per address, and guesses per minute per username.
const PER_MINUTE: u32 = 10;
const VICTIM_TRIES: usize = 8;
const GUESSERS: u8 = 10;
const GUESSES_EACH: usize = 5;

fn from(base: &str, last_octet: u8) -> Api {
    let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet));
    Api::from_address(base.to_owned(), Some(local))
}

/// One wrong guess; `true` if the password was checked (401), `false` if refused unchecked (429).
async fn guess(api: &Api, attempt: usize) -> bool {
    match api.login("alice", &format!("guess number {attempt}")).await {
        Ok(_) => panic!("guess {attempt} logged in"),
        Err(f) if f.status == 401 => true,
        Err(f) if f.status == 429 => false,
        Err(f) => panic!("guess {attempt}: unexpected answer {f:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_a_stranger_cannot_lock_a_user_out_of_login() {
    let _serial = harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let per_minute = PER_MINUTE.to_string();
    let args = ["--login-per-minute", per_minute.as_str()];
    let (mut relay, _) = harness::start(&harness::spec(dir.path(), &args)).await;
    let base = relay.url();
    let (attacker, victim) = (from(&base, 2), from(&base, 3));
    victim.user("alice").await;

    // The attacker spends its burst and more before alice's first try, then keeps going
    // between her tries: short, 3 guesses each time; long, one every 6 s as in the issue.
    let started = Instant::now();
    let mut attempt = 0;
    let (mut checked, mut refused) = (0, 0);
    for _ in 0..PER_MINUTE + 5 {
        attempt += 1;
        if guess(&attacker, attempt).await {
            checked += 1;
        } else {
            refused += 1;
        }
    }
    let mut victim_ok = 0;
    let mut victim_refusals = Vec::new();
    for try_no in 1..=VICTIM_TRIES {
        let between = if long() { 1 } else { 3 };
        for _ in 0..between {
            if long() {
                tokio::time::sleep(Duration::from_secs(6)).await;
            }
            attempt += 1;
            if guess(&attacker, attempt).await {
                checked += 1;
            } else {
                refused += 1;
            }
        }
        match victim.login("alice", PASSWORD).await {
            Ok(_) => victim_ok += 1,
            Err(f) => victim_refusals.push(format!("try {try_no}: {} {}", f.status, f.body)),
        }
    }
    eprintln!(
        "S7: attacker {attempt} guesses ({checked} checked, {refused} rate_limited) over {:?}; \
         alice logged in {victim_ok} of {VICTIM_TRIES}",
        started.elapsed()
    );
    assert!(refused > 0, "the attacker's own address is limited");
    // The burst, plus what the address regained over the run (PER_MINUTE a minute), plus one.
    let refilled = (started.elapsed().as_secs_f64() * f64::from(PER_MINUTE) / 60.0).ceil();
    let budget = PER_MINUTE as usize + refilled as usize + 1;
    assert!(
        checked <= budget,
        "the attacker's checked guesses stay within its address's budget: {checked} > {budget}"
    );
    assert_eq!(
        victim_ok, VICTIM_TRIES,
        "alice, from a clean address with the right password, gets in every time: {victim_refusals:?}"
    );

    // Distributed guessing: each new address gets its first SUSPECT_AFTER guesses checked,
    // then shares alice's (spent) per-username budget.
    let (mut d_checked, mut d_refused) = (0usize, 0usize);
    for n in 0..GUESSERS {
        let guesser = from(&base, 10 + n);
        for _ in 0..GUESSES_EACH {
            attempt += 1;
            if guess(&guesser, attempt).await {
                d_checked += 1;
            } else {
                d_refused += 1;
            }
        }
    }
    let total = usize::from(GUESSERS) * GUESSES_EACH;
    eprintln!(
        "S7: {GUESSERS} more guessers, {total} guesses: {d_checked} checked, {d_refused} \
         rate_limited (without the per-username budget all {total} would be checked)"
    );
    // Room for a guess or two the per-username budget regained meanwhile.
    let allowed = usize::from(GUESSERS) * SUSPECT_AFTER as usize + 2;
    assert!(
        d_checked <= allowed,
        "distributed guessing is slowed: {d_checked} of {total} checked, at most {allowed}"
    );
    assert!(
        d_refused > 0,
        "some distributed guesses are refused unchecked"
    );
    assert_alive(&mut relay, "after S7");
    let status = relay.terminate().await.expect("the relay stops");
    assert!(status.success(), "clean exit: {status}");
}
