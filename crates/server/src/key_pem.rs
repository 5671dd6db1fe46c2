//! Reading the PEM key files an operator points Livegate at, and saying plainly what is wrong
//! with one. The usual mistakes are the other half of the pair, OpenSSL's own "EC PRIVATE KEY"
//! layout (which the JWT library does not read, so it is converted here), a key type or curve
//! that RS256 / ES256 do not use, a passphrase-protected file and an RSA key too short to trust.

use anyhow::{anyhow, bail};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, LineEnding};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// RFC 7518 §3.3: a key of 2048 bits or larger MUST be used with RS256.
pub const MIN_RSA_BITS: usize = 2048;

/// A private key Livegate can sign with, as PEM the JWT library reads.
pub enum PrivateKey {
    Rsa(Vec<u8>),
    EcP256(Vec<u8>),
}

/// The kind of a public key Livegate can verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKind {
    Rsa,
    EcP256,
}

const UNSUPPORTED: &str = "RS256 takes an RSA key and ES256 an EC key on the P-256 curve \
     (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256); Ed25519 and the curves \
     P-384, P-521 and secp256k1 are not supported";

pub fn private_key(pem: &[u8]) -> anyhow::Result<PrivateKey> {
    let text = as_text(pem)?;
    match label(text) {
        None => bail!("not a PEM file: it has no -----BEGIN line"),
        Some("ENCRYPTED PRIVATE KEY") => bail!(
            "the key is protected by a passphrase; write an unprotected copy for Livegate \
             (openssl pkey -in KEY -out PLAIN.pem) readable only by whoever mints tokens"
        ),
        Some("PUBLIC KEY" | "RSA PUBLIC KEY") => bail!(
            "this is a public key: --private-key takes the private half of the pair \
             (`serve --jwt-public-key` takes this one)"
        ),
        Some("CERTIFICATE") => bail!("this is a certificate, not a private key"),
        Some("RSA PRIVATE KEY") => match RsaPrivateKey::from_pkcs1_pem(text) {
            Ok(key) => rsa_private(key, pem),
            Err(e) => bail!("an RSA private key that cannot be read: {e}"),
        },
        Some("EC PRIVATE KEY") => match p256::SecretKey::from_sec1_pem(text) {
            Ok(key) => ec_private(&key),
            Err(_) => bail!("an EC key on a curve other than P-256: {UNSUPPORTED}"),
        },
        Some("PRIVATE KEY") => {
            if let Ok(key) = RsaPrivateKey::from_pkcs8_pem(text) {
                rsa_private(key, pem)
            } else if let Ok(key) = p256::SecretKey::from_pkcs8_pem(text) {
                ec_private(&key)
            } else {
                bail!("a private key Livegate cannot sign with: {UNSUPPORTED}")
            }
        }
        Some(other) => bail!("a PEM file holding {other:?}, not a private key"),
    }
}

pub fn public_key(pem: &[u8]) -> anyhow::Result<PublicKind> {
    let text = as_text(pem)?;
    match label(text) {
        None => bail!("not a PEM file: it has no -----BEGIN line"),
        Some("PUBLIC KEY") => {
            if let Ok(key) = RsaPublicKey::from_public_key_pem(text) {
                rsa_public(&key)
            } else if p256::PublicKey::from_public_key_pem(text).is_ok() {
                Ok(PublicKind::EcP256)
            } else {
                bail!("a public key Livegate cannot verify with: {UNSUPPORTED}")
            }
        }
        Some("RSA PUBLIC KEY") => match RsaPublicKey::from_pkcs1_pem(text) {
            Ok(key) => rsa_public(&key),
            Err(e) => bail!("an RSA public key that cannot be read: {e}"),
        },
        Some(label) if label.ends_with("PRIVATE KEY") => bail!(
            "this is a private key: the server needs only the public half (openssl pkey -in \
             KEY -pubout -out PUBLIC.pem); keep the private key with whoever mints tokens"
        ),
        Some("CERTIFICATE") => bail!(
            "this is a certificate: give the public key inside it (openssl x509 -in CERT \
             -pubkey -noout > PUBLIC.pem)"
        ),
        Some(other) => bail!("a PEM file holding {other:?}, not a public key"),
    }
}

fn as_text(pem: &[u8]) -> anyhow::Result<&str> {
    std::str::from_utf8(pem).map_err(|_| anyhow!("not a PEM file: it is not text"))
}

/// What the file says it holds, from its first `-----BEGIN …-----` line.
fn label(pem: &str) -> Option<&str> {
    let rest = &pem[pem.find("-----BEGIN ")? + "-----BEGIN ".len()..];
    Some(&rest[..rest.find("-----")?])
}

fn rsa_private(key: RsaPrivateKey, pem: &[u8]) -> anyhow::Result<PrivateKey> {
    long_enough(key.size())?;
    Ok(PrivateKey::Rsa(pem.to_vec()))
}

fn ec_private(key: &p256::SecretKey) -> anyhow::Result<PrivateKey> {
    let pkcs8 = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow!("re-encoding the EC key: {e}"))?;
    Ok(PrivateKey::EcP256(pkcs8.as_bytes().to_vec()))
}

fn rsa_public(key: &RsaPublicKey) -> anyhow::Result<PublicKind> {
    long_enough(key.size())?;
    Ok(PublicKind::Rsa)
}

/// A JWK's RSA modulus (`n`, base64url) of at least [`MIN_RSA_BITS`].
pub fn rsa_modulus_long_enough(n: &str) -> anyhow::Result<()> {
    use base64::Engine;
    let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n.trim_end_matches('='))
        .map_err(|e| anyhow!("its modulus is not base64url: {e}"))?;
    let significant = modulus.iter().skip_while(|b| **b == 0).count();
    long_enough(significant)
}

fn long_enough(bytes: usize) -> anyhow::Result<()> {
    let bits = bytes * 8;
    anyhow::ensure!(
        bits >= MIN_RSA_BITS,
        "an RSA key of {bits} bits; RS256 needs at least {MIN_RSA_BITS} (RFC 7518), so make \
         a new one (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_is_read_from_the_first_begin_line() {
        assert_eq!(
            label("x\n-----BEGIN EC PRIVATE KEY-----\nAA"),
            Some("EC PRIVATE KEY")
        );
        assert_eq!(label("no pem here"), None);
        assert_eq!(label("-----BEGIN unterminated"), None);
    }
}
