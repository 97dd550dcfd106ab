//! Certificates made in tests (rcgen, ring): a private CA and the relay certificates it signs,
//! or self-signed ones, written as the PEM files `natter-relay --tls-cert/--tls-key` reads.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// The names a test relay's certificate is valid for: it listens on loopback.
pub const LOOPBACK_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A certificate and its private key, both PEM, and the certificate's DER (what a fingerprint
/// is taken of).
#[derive(Debug, Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
    pub der: Vec<u8>,
}

impl Pem {
    /// Writes `STEM-cert.pem` and `STEM-key.pem` in `dir`; returns (cert path, key path).
    pub fn write(&self, dir: &Path, stem: &str) -> std::io::Result<(PathBuf, PathBuf)> {
        let cert = dir.join(format!("{stem}-cert.pem"));
        let key = dir.join(format!("{stem}-key.pem"));
        std::fs::write(&cert, &self.cert)?;
        std::fs::write(&key, &self.key)?;
        Ok((cert, key))
    }
}

/// A private certificate authority.
pub struct TestCa {
    /// The CA's own certificate, PEM: what a client adds as a root to trust it.
    pub cert: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA named `name` with a fresh key.
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("generate a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("self-sign the CA").pem();
        Self {
            cert,
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names` (each a DNS name or an IP address), signed by this CA,
    /// with a fresh key.
    pub fn leaf(&self, names: &[&str]) -> Pem {
        let key = KeyPair::generate().expect("generate a key");
        let params = server_params(names);
        pem(&params.signed_by(&key, &self.issuer).expect("sign"), &key)
    }
}

/// A self-signed server certificate for `names`, as a LAN relay's owner would make one.
pub fn self_signed(names: &[&str]) -> Pem {
    let key = KeyPair::generate().expect("generate a key");
    pem(
        &server_params(names).self_signed(&key).expect("self-sign"),
        &key,
    )
}

fn pem(cert: &Certificate, key: &KeyPair) -> Pem {
    Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
        der: cert.der().to_vec(),
    }
}

fn server_params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "natter test relay");
    params
}
