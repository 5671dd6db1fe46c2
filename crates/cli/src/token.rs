//! `livegate token`: mint a bearer token for one client, the role a vendor dashboard plays.

use anyhow::Context;
use server::{MintOptions, SigningKey};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    /// The client the token identifies (JWT `sub`); rate limits are counted per `sub`.
    #[arg(long)]
    pub sub: String,
    /// Lifetime: seconds, or a number with s/m/h/d (e.g. 30m, 24h).
    #[arg(long, default_value = "24h", value_parser = crate::duration::parse)]
    pub ttl: Duration,
    /// The longest lifetime the server accepts (`serve --jwt-max-lifetime`); a longer --ttl is
    /// refused rather than minted into a token the server would reject.
    #[arg(long, env = "LIVEGATE_JWT_MAX_LIFETIME", default_value = "24h", value_parser = crate::duration::parse)]
    pub max_lifetime: Duration,
    /// HS256 shared secret (at least 32 bytes), the same one given to `serve`.
    #[arg(long, env = "LIVEGATE_JWT_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// File holding the HS256 secret (a trailing newline is ignored).
    #[arg(long, env = "LIVEGATE_JWT_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// RSA (RS256) or EC P-256 (ES256) private key, PEM; `serve` gets the public half.
    #[arg(long, conflicts_with_all = ["secret", "secret_file"])]
    pub private_key: Option<PathBuf>,
    /// `iss` claim.
    #[arg(long)]
    pub issuer: Option<String>,
    /// `aud` claim.
    #[arg(long)]
    pub audience: Option<String>,
    /// `kid` header, to pick the key out of a JWKS.
    #[arg(long)]
    pub kid: Option<String>,
}

/// Reads an HS256 secret given inline or by file; shared with `serve`.
pub fn read_secret(
    inline: Option<&str>,
    file: Option<&PathBuf>,
) -> anyhow::Result<Option<Vec<u8>>> {
    match (inline, file) {
        (Some(_), Some(_)) => anyhow::bail!(
            "give the JWT secret inline or as a file, not both (inline includes \
             LIVEGATE_JWT_SECRET in the environment; as a file, LIVEGATE_JWT_SECRET_FILE)"
        ),
        (Some(s), None) => Ok(Some(s.as_bytes().to_vec())),
        (None, Some(path)) => {
            let raw = std::fs::read(path)
                .with_context(|| format!("reading JWT secret {}", path.display()))?;
            let end = raw
                .iter()
                .rposition(|b| !b.is_ascii_whitespace())
                .map_or(0, |i| i + 1);
            Ok(Some(raw[..end].to_vec()))
        }
        (None, None) => Ok(None),
    }
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.ttl <= args.max_lifetime,
        "--ttl {} s is longer than the {} s the server accepts (--max-lifetime); long-lived \
         tokens cannot be revoked, mint short ones instead",
        args.ttl.as_secs(),
        args.max_lifetime.as_secs()
    );
    let key = if let Some(path) = &args.private_key {
        let pem = std::fs::read(path)
            .with_context(|| format!("reading private key {}", path.display()))?;
        SigningKey::from_private_pem(pem)?
    } else if let Some(secret) = read_secret(args.secret.as_deref(), args.secret_file.as_ref())? {
        SigningKey::Hs256(secret)
    } else {
        anyhow::bail!(
            "no signing key: give --secret, --secret-file or --private-key (or set \
             LIVEGATE_JWT_SECRET / LIVEGATE_JWT_SECRET_FILE; scripts/token.sh uses the secret \
             scripts/serve.sh keeps)"
        );
    };
    let token = server::mint(
        &key,
        &MintOptions {
            sub: args.sub,
            ttl: args.ttl,
            issuer: args.issuer,
            audience: args.audience,
            kid: args.kid,
        },
    )?;
    println!("{token}");
    Ok(())
}
