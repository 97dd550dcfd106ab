//! Passwords (argon2id, hashed off the async runtime, a bounded number at a time) and session
//! tokens (256 random bits, stored only as their SHA-256).

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// Verified against when the user is unknown, so that "no such user" and "wrong password" take
/// the same time: a hash made with the parameters above from a random password nobody kept.
/// A constant rather than hashed at start, which cost every start tens of ms of a core, and the
/// relay binary ~19 MiB that mimalloc kept (the thread that hashed never ends).
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$2fouac4mohqWHPwNK3boeA$rYqZGSDEjs2KbD47U55zKV4XLQYWRJ+oSGfc6gdbt0E";

#[derive(Clone)]
pub struct Passwords {
    // Each hash holds ~19 MiB and a core for tens of ms: cap how many run at once.
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(e.to_string()))
}

fn verify_blocking(password: &str, hash: &str) -> Result<bool> {
    let parsed = PasswordHash::new(hash).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(argon2()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

impl Default for Passwords {
    fn default() -> Self {
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(parallel)),
        }
    }
}

impl Passwords {
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || hash_blocking(&password)).await
    }

    /// Verifies against `hash`, or against a dummy hash when there is no user.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let ok = self.run(move || verify_blocking(&password, &hash)).await?;
        Ok(known && ok)
    }
}

/// A fresh bearer token: 32 random bytes, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verifying against the dummy must cost what verifying a real hash costs: the same
    /// algorithm, version and parameters as new hashes get.
    #[test]
    fn the_dummy_hash_has_the_parameters_of_new_hashes() {
        let real = hash_blocking("correct horse battery").expect("hash");
        let (real, dummy) = (
            PasswordHash::new(&real).expect("a real hash parses"),
            PasswordHash::new(DUMMY_HASH).expect("the dummy hash parses"),
        );
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let passwords = Passwords::default();
        for password in ["", "correct horse battery", &new_token()] {
            let ok = passwords
                .verify(password.to_owned(), None)
                .await
                .expect("verify");
            assert!(!ok, "{password:?}");
        }
    }
}
