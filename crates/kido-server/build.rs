//! Puts the git commit the binary is built from into `KIDO_GIT_COMMIT` (`kido --version`):
//! the variable of that name when set (a Docker build without `.git`), else
//! `git rev-parse --short HEAD`, else "unknown".

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=KIDO_GIT_COMMIT");
    let given = std::env::var("KIDO_GIT_COMMIT").ok().filter(|c| !c.is_empty());
    let commit = given.or_else(|| git(&["rev-parse", "--short=12", "HEAD"])).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=KIDO_GIT_COMMIT={commit}");
    // Rerun when HEAD moves: HEAD itself (a checkout) and the branch it names (a commit). Only
    // files that exist: a missing one would rerun this script on every build.
    let branch = git(&["rev-parse", "--symbolic-full-name", "HEAD"]);
    let watched = [Some("HEAD".to_owned()), branch, Some("packed-refs".to_owned())];
    for name in watched.into_iter().flatten() {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]).filter(|p| Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
