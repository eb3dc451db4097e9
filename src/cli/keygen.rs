//! `wordwarden keygen --out FILE`: a new age identity for opening alerts'
//! sealed evidence.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wordwarden::alert::seal::generate_identity;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the identity (the secret key): a new file, readable
    /// by its owner only; never overwritten.
    #[arg(long, value_name = "KEY_FILE")]
    out: PathBuf,
}

/// Writes a new identity to `--out` and prints its public key, the
/// recipient to put in `evidence_recipients`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (identity, recipient) = generate_identity();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    file.write_all(identity.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("{recipient}");
    eprintln!(
        "identity written to {}; its public key above goes in evidence_recipients \
         (keep the file with the analysts who open evidence: tail --evidence-identity {})",
        args.out.display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
