//! Start-up failures as an operator meets them: the real binary, its exit code and the one
//! message that names the cause and what to do. Each test runs the binary as a child process.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;

use crate::process::{free_port, kido, run, spawn};

#[test]
fn a_bad_database_url_names_the_setting_and_the_forms_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = run(kido(&[], dir.path(), &[("DATABASE_URL", "mysql://kido:hunter2@db/kido")]));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DATABASE_URL") && stderr.contains("postgres://"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password is never printed: {stderr}");
    assert!(!stderr.contains("corrupt"), "{stderr}");
}

#[test]
fn unreachable_postgres_names_host_and_port_counts_down_and_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("postgres://kido:hunter2@127.0.0.1:{port}/kido");
    let env = [("DATABASE_URL", url.as_str()), ("KIDO_DB_CONNECT_TIMEOUT_SECS", "2")];
    let (status, stdout, stderr) = run(kido(&[], dir.path(), &env));
    assert_eq!(status.code(), Some(1), "{stderr}");
    let address = format!("127.0.0.1:{port}");
    assert!(stdout.contains(&address) && stdout.contains("refused") && stdout.contains("retrying in"), "{stdout}");
    assert!(
        stderr.contains(&address) && stderr.contains("refused") && stderr.contains("gave up after 2 s"),
        "{stderr}"
    );
    assert!(stderr.contains("pg_isready") && stderr.contains("KIDO_DB_CONNECT_TIMEOUT_SECS"), "{stderr}");
    assert!(!stderr.contains("hunter2") && !stdout.contains("hunter2"), "{stderr}");
}

/// Something listens but never speaks PostgreSQL (a wrong port, a hung server): named as
/// taking the connection without answering, not as a pool timeout.
#[test]
fn a_server_that_never_answers_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let url = format!("postgres://kido@{address}/kido");
    let (status, _, stderr) = run(kido(&[], dir.path(), &[("DATABASE_URL", url.as_str())]));
    drop(silent);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("PostgreSQL at {address} took the connection but did not complete")), "{stderr}");
    assert!(!stderr.contains("pool timed out"), "{stderr}");
}

#[test]
fn ctrl_c_during_start_up_stops_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://kido@127.0.0.1:{}/kido", free_port());
    // Start-up would wait ten minutes for this database; Ctrl-C must not.
    let env = [("DATABASE_URL", url.as_str()), ("KIDO_DB_CONNECT_TIMEOUT_SECS", "600")];
    let mut child = spawn(kido(&[], dir.path(), &env));
    child.wait_for_line("retrying in");
    child.signal("INT");
    let (status, _, stderr) = child.finish();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted during start-up"), "{stderr}");
}

#[test]
fn an_argon2_cost_argon2_refuses_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = run(kido(&[], dir.path(), &[("KIDO_ARGON2_MEMORY_KIB", "1")]));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("KIDO_ARGON2_MEMORY_KIB=1") && stderr.contains("at least 8 KiB"), "{stderr}");
    assert!(!stderr.contains("signing keys"), "{stderr}");
}

#[test]
fn equal_ports_are_refused_before_anything_listens() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let (status, _, stderr) =
        run(kido(&[], dir.path(), &[("KIDO_PORT", port.as_str()), ("KIDO_ADMIN_PORT", port.as_str())]));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("are both {port}")) && stderr.contains("their own port"), "{stderr}");
    assert!(!stderr.contains("another process"), "{stderr}");
}

/// A data directory this user may not write: as root (who may write anywhere) the child
/// runs as `nobody` on a directory root owns; otherwise the directory is made read-only.
#[test]
fn an_unwritable_data_dir_is_named_with_what_to_do() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let probe = parent.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&probe).unwrap()) == 0;
    for path in [parent.path(), dir.as_path()] {
        let mode = if root { 0o755 } else { 0o500 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let mut cmd = kido(&[], &dir, &[]);
    if root {
        if !reachable_by_others(std::path::Path::new(env!("CARGO_BIN_EXE_kido"))) {
            eprintln!("skipped: the kido binary is not executable by `nobody` here");
            return;
        }
        cmd.uid(65534).gid(65534);
    }
    let (status, _, stderr) = run(cmd);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("data directory {} is not writable", dir.display())), "{stderr}");
    assert!(stderr.contains("KIDO_DATA_DIR") && stderr.contains("chown"), "{stderr}");
    assert!(!stderr.contains("first-start setup"), "{stderr}");
}

/// Whether every directory above `binary` may be entered, and the binary run, by anyone.
fn reachable_by_others(binary: &std::path::Path) -> bool {
    binary.ancestors().all(|p| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o001 != 0).unwrap_or(false))
}

#[test]
fn a_host_name_is_accepted_and_the_pasted_next_steps_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(kido(&[], dir.path(), &[("KIDO_HOST", "localhost")]));
    let listening = child.wait_for_line("tenant default");
    assert!(listening.contains("listening on 127.0.0.1:"), "{listening}");
    child.wait_for_line("Next:");
    let mut script = Vec::new();
    loop {
        let line = child.wait_for_line("");
        if line.starts_with("API reference") {
            break;
        }
        script.push(line);
    }
    let script = script.join("\n");
    assert!(script.contains("jq -r .clientId") && !script.contains("CLIENT_ID=..."), "{script}");
    let tools = ["bash", "curl", "jq"].iter().all(|t| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if tools {
        // Pasted as printed: the last command lists the applications with the token.
        let out = std::process::Command::new("bash").args(["-euo", "pipefail", "-c", &script]).output().unwrap();
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        });
        assert!(listed.as_array().is_some_and(|apps| !apps.is_empty()), "{listed}");
    } else {
        eprintln!("bash, curl or jq missing: the commands were not run");
    }
    child.signal("TERM");
    let (status, _, stderr) = child.finish();
    assert!(status.success(), "{stderr}");
}

#[test]
fn version_names_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (status, stdout, _) = run(kido(&["--version"], dir.path(), &[]));
    assert!(status.success());
    let commit = stdout.split("(commit ").nth(1).and_then(|rest| rest.split(')').next()).unwrap_or_default();
    assert!(commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{stdout}");
}
