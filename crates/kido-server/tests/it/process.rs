//! The real `kido` binary as a child process: what an operator sees on the terminal.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Long enough for any start-up here; only a hung child ever waits this long.
const PATIENCE: Duration = Duration::from_secs(120);

/// `kido` with `args`, on its own data directory and free ports, with `env` added (and no
/// database setting inherited from the test's environment).
pub fn kido(args: &[&str], data_dir: &std::path::Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kido"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DB_URL")
        .env("KIDO_DATA_DIR", data_dir)
        .env("KIDO_PORT", "0")
        .env("KIDO_ADMIN_PORT", "0")
        .env("KIDO_ARGON2_MEMORY_KIB", "8")
        .env("KIDO_ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "warn,kido=info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A running child whose stdout is read line by line as it comes.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub stdout: Vec<String>,
}

pub fn spawn(mut cmd: Command) -> Running {
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running { child, lines, stdout: Vec::new() }
}

impl Running {
    /// Reads stdout until a line contains `needle`; returns that line.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no line with {needle:?} on stdout; got:\n{}", self.stdout.join("\n"));
                }
            }
        }
    }

    /// Sends `signal` (e.g. "INT") as the terminal or a service manager would.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the child to end; returns its status, all its stdout and its stderr.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let status = wait(&mut self.child);
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stdout.push(line);
        }
        (status, self.stdout.join("\n"), stderr)
    }
}

fn wait(child: &mut Child) -> ExitStatus {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("kido did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` to its end: (status, stdout, stderr).
pub fn run(cmd: Command) -> (ExitStatus, String, String) {
    spawn(cmd).finish()
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
